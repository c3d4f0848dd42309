import { describe, expect, it } from 'vitest';
import { headroom, place, type PlacementCandidate } from './placement.js';

const host = (id: string, freeMemoryMiB: number, instances = 0, status = 'ready', heldMiB = 0, reportedMiB = 0): PlacementCandidate => ({
  id,
  name: `${id}.example`,
  status,
  freeMemoryMiB,
  instances,
  heldMiB,
  reportedMiB,
  ...(status === 'degraded' ? { reason: 'kvm: /dev/kvm is 0600' } : {}),
});

describe('placement', () => {
  it('spreads: fewest instances first, then most free memory', () => {
    expect(place({ memoryMiB: 128 }, [host('a', 4000, 2), host('b', 1000, 1), host('c', 2000, 1)]).id).toBe('c');
  });

  it('only takes ready hosts the instance fits, counting launches under way', () => {
    expect(place({ memoryMiB: 512 }, [host('a', 4000, 0, 'unreachable'), host('b', 600, 0, 'ready', 200), host('c', 520, 3)]).id).toBe('c');
    expect(() => place({ memoryMiB: 512 }, [host('a', 4000, 0, 'unreachable')])).toThrow(/no host is ready/);
    expect(() => place({ memoryMiB: 5000 }, [host('a', 4000)])).toThrow(/most any ready host has free is 4000 MiB/);
  });

  it('counts what the records hold that the last heartbeat did not report, and only that', () => {
    // 300 MiB running and reported, 256 more started since the heartbeat: 600 - 256 = 344 left.
    expect(headroom(host('a', 600, 3, 'ready', 556, 300))).toBe(344);
    expect(() => place({ memoryMiB: 384 }, [host('a', 600, 3, 'ready', 556, 300)])).toThrow(/most any ready host has free is 344 MiB/);
    // The heartbeat caught up: the same instances count once.
    expect(headroom(host('a', 344, 3, 'ready', 556, 556))).toBe(344);
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
    expect(() => place({ memoryMiB: 128, pin: 'a' }, [host('a', 9000, 0, 'degraded'), host('b', 500)])).toThrow(
      'host degraded: host a.example is degraded: kvm: /dev/kvm is 0600',
    );
    const err = (() => {
      try {
        place({ memoryMiB: 128 }, [host('a', 9000, 0, 'degraded'), host('c', 9000, 0, 'unreachable')]);
      } catch (e) {
        return e as { code: string; message: string };
      }
    })();
    expect(err).toMatchObject({
      code: 'MGR_ERR_HOST_DEGRADED',
      message: 'host degraded: no host is ready; host a.example is degraded: kvm: /dev/kvm is 0600',
    });
  });

  it('never picks a drained host, not even the emptiest, and refuses a pin to one saying to undrain it', () => {
    const drained = { ...host('a', 9000, 0), drained: true };
    // The drained host is the one spreading would pick: empty, the most memory.
    for (let i = 0; i < 20; i++) expect(place({ memoryMiB: 128 }, [drained, host('b', 500, i)]).id).toBe('b');
    expect(() => place({ memoryMiB: 128, pin: 'a' }, [drained, host('b', 500)])).toThrow(
      'host drained: host a.example is drained; storm host undrain a.example lets it take instances again',
    );
    const dead = { ...host('c', 9000, 0, 'dead'), drained: true };
    expect(() => place({ memoryMiB: 128, pin: 'c' }, [dead])).toThrow(
      /declared dead; it takes no instances until storm host undrain c\.example/,
    );
    expect(() => place({ memoryMiB: 128 }, [drained, dead])).toThrow('no host can take the instance: no host is ready (2 drained)');
    // Undrained, it is a candidate like any other again.
    expect(place({ memoryMiB: 128 }, [{ ...drained, drained: false }, host('b', 500, 1)]).id).toBe('a');
  });
});
