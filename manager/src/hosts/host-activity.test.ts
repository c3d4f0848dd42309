import { describe, expect, it } from 'vitest';
import { describeActivity } from './host-activity.js';

describe('describeActivity', () => {
  it('names the steps under way before the requests that wait on them', () => {
    const text = describeActivity({
      tasks: [
        { what: 'answering PUT /v1/instances/i-1/domain', forMs: 31_250 },
        { what: 'defining domain storm-i-1 (waiting for libvirt)', forMs: 31_200 },
      ],
    });
    expect(text).toBe('it was defining domain storm-i-1 (waiting for libvirt), for 31.2 s');
  });

  it('falls back to the requests, and says when nothing is under way', () => {
    expect(describeActivity({ tasks: [{ what: 'answering GET /v1/instances', forMs: 40_000 }] })).toBe(
      'it was answering GET /v1/instances, for 40.0 s',
    );
    expect(describeActivity({ tasks: [] })).toBe('it reports nothing under way now (the call may have just finished)');
  });
});
