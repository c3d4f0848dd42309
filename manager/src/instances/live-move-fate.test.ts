import { describe, expect, it } from 'vitest';
import { liveMoveFate } from './live-move-fate.js';

describe('liveMoveFate', () => {
  it('finishes forward when the target has the guest and the source has none (running, or stopped since)', () => {
    for (const state of ['running', 'paused', 'shutoff', 'crashed'] as const)
      expect(liveMoveFate({ state: 'absent' }, { state }).fate).toBe('forward');
  });

  it('goes back when the source still has the guest and the target only the incoming folder', () => {
    for (const state of ['running', 'paused', 'shutoff'] as const) expect(liveMoveFate({ state }, { state: 'absent' }).fate).toBe('back');
  });

  it('waits while both hosts have a domain (a migration under way) and when neither has one', () => {
    expect(liveMoveFate({ state: 'running' }, { state: 'paused' })).toMatchObject({
      fate: 'wait',
      why: expect.stringContaining('under way'),
    });
    expect(liveMoveFate({ state: 'paused' }, { state: 'running' }).fate).toBe('wait');
    expect(liveMoveFate({ state: 'absent' }, { state: 'absent' })).toMatchObject({ fate: 'wait', why: 'neither host has a domain for it' });
  });
});
