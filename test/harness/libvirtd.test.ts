import { describe, expect, it } from 'vitest';
import { ensureLibvirtd, libvirtAnswers, SYSTEM_URI } from './libvirtd.js';

describe('ensureLibvirtd', () => {
  it('gives a qemu:///system that answers, and stop() leaves a daemon it did not start alone', async () => {
    const before = await libvirtAnswers();
    const lv = await ensureLibvirtd();
    expect(lv.uri).toBe(SYSTEM_URI);
    expect(await libvirtAnswers(lv.uri)).toBe(true);
    if (before) expect(lv.pids).toEqual([]);
    await lv.stop();
    expect(await libvirtAnswers()).toBe(before);
  });
});
