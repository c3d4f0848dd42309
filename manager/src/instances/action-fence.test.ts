import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ActionFence } from './action-fence.js';

describe('ActionFence', () => {
  beforeEach(() => vi.useFakeTimers({ now: 1_000 }));
  afterEach(() => vi.useRealTimers());

  it('skips a heartbeat received while the action ran or before it settled; admits one received after', async () => {
    const fence = new ActionFence();
    const receivedBefore = Date.now();
    let release!: () => void;
    const stop = fence.around('i1', () => new Promise<void>((r) => (release = r)));
    vi.advanceTimersByTime(5);
    expect(fence.admits('i1', Date.now())).toBe(false);
    expect(fence.admits('other', receivedBefore)).toBe(true);
    release();
    await stop;
    // The stale one: it left the host before the stop's answer.
    expect(fence.admits('i1', receivedBefore)).toBe(false);
    vi.advanceTimersByTime(1);
    expect(fence.admits('i1', Date.now())).toBe(true);
  });

  it('a failed action settles too, and overlapping actions keep the fence until the last ends', async () => {
    const fence = new ActionFence();
    let releaseA!: () => void;
    const a = fence.around('i1', () => new Promise<void>((r) => (releaseA = r)));
    const b = fence.around('i1', () => Promise.reject(new Error('no domain')));
    await expect(b).rejects.toThrow('no domain');
    vi.advanceTimersByTime(1);
    expect(fence.admits('i1', Date.now())).toBe(false);
    releaseA();
    await a;
    vi.advanceTimersByTime(1);
    expect(fence.admits('i1', Date.now())).toBe(true);
  });
});
