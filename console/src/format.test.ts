import { describe, expect, it } from 'vitest';
import { ago, bytes, duration } from './format.js';

describe('format', () => {
  it('writes sizes, durations and ages for people', () => {
    expect([bytes(0), bytes(1023), bytes(1536), bytes(8_247_232), bytes(null)]).toEqual(['0 B', '1023 B', '1.5 KiB', '7.9 MiB', '—']);
    expect([duration(5), duration(75), duration(3700), duration(null)]).toEqual(['5 s', '1 min 15 s', '1 h 1 min', '—']);
    const now = Date.parse('2030-01-01T12:00:00Z');
    expect(ago('2030-01-01T11:59:58Z', now)).toBe('just now');
    expect(ago('2030-01-01T11:59:30Z', now)).toBe('30 s ago');
    expect(ago('2030-01-01T11:55:10Z', now)).toBe('4 min ago');
    expect(ago(null, now)).toBe('never');
  });
});
