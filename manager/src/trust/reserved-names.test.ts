import { describe, expect, it } from 'vitest';
import { canonicalName, ReservedNames } from './reserved-names.js';

describe('ReservedNames', () => {
  const reserved = new ReservedNames(
    ['storm-manager', 'storm.local', 'Manager.Example', '10.77.0.1', '2001:DB8:0:0::1', 'mgr', '127.0.0.1', 'localhost', '::1'],
    { machineNames: ['mgr'] },
  );

  it('refuses the manager names in any spelling', () => {
    expect(reserved.clash('STORM.local', { local: false })).toBe('storm.local');
    expect(reserved.clash('manager.example.', { local: false })).toBe('manager.example');
    expect(reserved.clash('storm-manager', { local: true })).toBe('storm-manager');
    expect(reserved.clash('10.77.0.1', { local: false })).toBe('10.77.0.1');
    expect(reserved.clash('2001:db8::1', { local: false })).toBe('2001:db8::1');
  });

  it('leaves loopback open, and this machine name to the local host only', () => {
    for (const n of ['127.0.0.1', 'localhost', '::1', '127.0.0.2']) expect(reserved.clash(n, { local: false })).toBeUndefined();
    expect(reserved.clash('mgr', { local: false })).toBe('mgr');
    expect(reserved.clash('mgr', { local: true })).toBeUndefined();
    expect(reserved.clash('host-1', { local: false })).toBeUndefined();
  });

  it('writes IPv6 one way', () => {
    expect(canonicalName('2001:0DB8::0001')).toBe('2001:db8::1');
  });
});
