import { describe, expect, it } from 'vitest';
import { place, type PlacementCandidate } from './placement.js';

const host = (id: string, freeMemoryMiB: number, instances = 0, status = 'ready', pendingMiB = 0): PlacementCandidate => ({ id, name: `${id}.example`, status, freeMemoryMiB, instances, pendingMiB, ...(status === 'degraded' ? { reason: 'kvm: /dev/kvm is 0600' } : {}) });

describe('placement', () => {
  it('spreads: fewest instances first, then most free memory', () => {
    expect(place({ memoryMiB: 128 }, [host('a', 4000, 2), host('b', 1000, 1), host('c', 2000, 1)]).id).toBe('c');
  });

  it('only takes ready hosts the instance fits, counting launches under way', () => {
    expect(place({ memoryMiB: 512 }, [host('a', 4000, 0, 'unreachable'), host('b', 600, 0, 'ready', 200), host('c', 520, 3)]).id).toBe('c');
    expect(() => place({ memoryMiB: 512 }, [host('a', 4000, 0, 'unreachable')])).toThrow(/no host is ready/);
    expect(() => place({ memoryMiB: 5000 }, [host('a', 4000)])).toThrow(/most any ready host has free is 4000 MiB/);
  });

  it('honours a pin by id or name, and refuses a pinned host that cannot take it', () => {
    const hosts = [host('a', 4000, 0), host('b', 300, 5)];
    expect(place({ memoryMiB: 128, pin: 'b' }, hosts).id).toBe('b');
    expect(place({ memoryMiB: 128, pin: 'b.example' }, hosts).id).toBe('b');
    expect(() => place({ memoryMiB: 512, pin: 'b' }, hosts)).toThrow(/300 MiB free/);
    expect(() => place({ memoryMiB: 1, pin: 'zz' }, hosts)).toThrow(/host zz/);
  });

  it('never picks a degraded host, and says why when one is pinned or all are degraded', () => {
    expect(place({ memoryMiB: 128 }, [host('a', 9000, 0, 'degraded'), host('b', 500, 4)]).id).toBe('b');
    expect(() => place({ memoryMiB: 128, pin: 'a' }, [host('a', 9000, 0, 'degraded'), host('b', 500)])).toThrow('host degraded: host a.example is degraded: kvm: /dev/kvm is 0600');
    const err = (() => {
      try {
        place({ memoryMiB: 128 }, [host('a', 9000, 0, 'degraded'), host('c', 9000, 0, 'unreachable')]);
      } catch (e) {
        return e as { code: string; message: string };
      }
    })();
    expect(err).toMatchObject({ code: 'MGR_ERR_HOST_DEGRADED', message: 'host degraded: no host is ready; host a.example is degraded: kvm: /dev/kvm is 0600' });
  });
});
