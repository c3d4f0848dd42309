import { describe, expect, it } from 'vitest';
import type { Clock } from '../clock.js';
import { DefineWatch } from './define-watch.js';

/** A clock the test moves by hand (the one mock allowed). */
function manualClock(): Clock & { advance(ms: number): void } {
  let now = 1_000_000;
  return { now: () => now, sleep: async () => undefined, advance: (ms) => (now += ms) };
}

describe('DefineWatch', () => {
  it('has nothing to say before the first define, then reports the last one', async () => {
    const clock = manualClock();
    const watch = new DefineWatch(clock, 10_000);
    expect(watch.check()).toEqual({ name: 'define-time', status: 'skip', message: 'no define measured yet' });
    await watch.time('storm-i-1', async () => clock.advance(12));
    expect(watch.check()).toEqual({ name: 'define-time', status: 'ok', message: 'the last define (storm-i-1) took 12 ms' });
  });

  it('fails for a define slower than the limit, and passes again after a fast one', async () => {
    const clock = manualClock();
    const watch = new DefineWatch(clock, 10_000);
    await watch.time('storm-i-1', async () => clock.advance(44_100));
    expect(watch.check()).toMatchObject({
      status: 'fail',
      message: 'the last define (storm-i-1) took 44 s, more than 10 s',
      fix: expect.stringContaining('kvm check'),
    });
    expect(watch.slow()).toBe(true);
    await watch.time('stormd-probe-0123456789ab', async () => clock.advance(40));
    expect(watch.check().status).toBe('ok');
  });

  it('fails while a define has been running longer than the limit, and counts failed defines too', async () => {
    const clock = manualClock();
    const watch = new DefineWatch(clock, 10_000);
    let finish!: () => void;
    const running = watch.time('storm-i-2', () => new Promise<void>((resolve) => (finish = resolve)));
    clock.advance(12_000);
    expect(watch.check()).toMatchObject({ status: 'fail', message: 'a define of storm-i-2 has been running for 12 s (more than 10 s)' });
    finish();
    await running;
    await expect(
      watch.time('storm-i-3', async () => {
        clock.advance(15_000);
        throw new Error('libvirt said no');
      }),
    ).rejects.toThrow('libvirt said no');
    expect(watch.check()).toMatchObject({ status: 'fail', message: 'the last define (storm-i-3) took 15 s, more than 10 s' });
  });
});
