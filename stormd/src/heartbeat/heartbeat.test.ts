import { describe, expect, it } from 'vitest';
import { backoffDelay } from './heartbeat.js';

describe('heartbeat backoff', () => {
  it('doubles per failure from the interval and stops at the cap', () => {
    expect([1, 2, 3].map((n) => backoffDelay(n, 1000))).toEqual([2000, 4000, 8000]);
    expect(backoffDelay(30, 10_000)).toBe(300_000);
    expect(backoffDelay(5, 100, 1000)).toBe(1000);
  });
});
