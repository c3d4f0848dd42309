import { describe, expect, it } from 'vitest';
import type { KdcStatus } from './kdc-supervisor.js';
import { realmView } from './realm-view.js';

const kdc: KdcStatus = { state: 'running', pid: 42, restarts: 0, since: '2026-12-06T00:00:00.000Z', lastExit: null, lastError: null };
const status = { realm: 'STORM.INTERNAL', listen: '10.77.0.1:88', kdc };

describe('realmView', () => {
  it('pairs each user and instance with its principals and says why a user has none', () => {
    const v = realmView(
      status,
      {
        users: ['alice@STORM.INTERNAL', 'gone@STORM.INTERNAL'],
        instances: {
          web1: ['host/web1.storm.internal@STORM.INTERNAL', 'HTTP/web1.storm.internal@STORM.INTERNAL'],
          old: ['host/old.storm.internal@STORM.INTERNAL'],
        },
        other: ['K/M@STORM.INTERNAL'],
      },
      [
        { uid: 'alice', hasPassword: true },
        { uid: 'bob', hasPassword: true },
        { uid: 'carol', hasPassword: false },
      ],
      ['web1', 'web2'],
    );
    expect(v.users).toEqual([
      { uid: 'alice', principal: 'alice@STORM.INTERNAL' },
      { uid: 'bob', principal: null, missing: 'password-predates-realm' },
      { uid: 'carol', principal: null, missing: 'no-password' },
    ]);
    expect(v.usersWithoutPrincipal).toEqual(['bob']);
    expect(v.instances).toEqual([
      { name: 'web1', principals: ['host/web1.storm.internal@STORM.INTERNAL', 'HTTP/web1.storm.internal@STORM.INTERNAL'] },
      { name: 'web2', principals: [] },
    ]);
    expect(v.other).toEqual(['K/M@STORM.INTERNAL', 'gone@STORM.INTERNAL', 'host/old.storm.internal@STORM.INTERNAL']);
  });
});
