import { describe, expect, it } from 'vitest';
import { type Clock, waitFor } from './clock.js';

/** A clock that only moves when someone sleeps. */
function fakeClock(): Clock & { slept: number[] } {
  let t = 0;
  const slept: number[] = [];
  return {
    slept,
    now: () => t,
    sleep: async (ms) => {
      slept.push(ms);
      t += ms;
    },
  };
}

describe('waitFor', () => {
  it('returns true as soon as the check passes', async () => {
    const clock = fakeClock();
    let calls = 0;
    expect(await waitFor(async () => ++calls === 3, { timeoutMs: 10_000, intervalMs: 100, clock })).toBe(true);
    expect(clock.slept).toEqual([100, 100]);
  });

  it('gives up after the timeout without oversleeping', async () => {
    const clock = fakeClock();
    expect(await waitFor(async () => false, { timeoutMs: 250, intervalMs: 100, clock })).toBe(false);
    expect(clock.slept).toEqual([100, 100, 50]);
  });

  it('checks once even with a zero timeout', async () => {
    expect(await waitFor(async () => true, { timeoutMs: 0, clock: fakeClock() })).toBe(true);
  });
});
