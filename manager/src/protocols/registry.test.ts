import { describe, expect, it } from 'vitest';
import type { NetworkService } from './network-service.js';
import { NetworkServiceRegistry } from './registry.js';

/** A service that records what was done to it, and can fail to start. */
class Probe implements NetworkService {
  readonly events: string[] = [];
  constructor(
    readonly name: string,
    private readonly failStart = false,
  ) {}
  listensOn(): string {
    return `test ${this.name}`;
  }
  async start(): Promise<void> {
    this.events.push('start');
    if (this.failStart) throw new Error(`${this.name} cannot bind`);
  }
  async close(): Promise<void> {
    this.events.push('close');
  }
}

describe('NetworkServiceRegistry', () => {
  it('starts services in order, finds them by name and closes every one', async () => {
    const registry = new NetworkServiceRegistry();
    const dns = await registry.start(new Probe('dns'));
    const ldap = await registry.start(new Probe('ldap'));
    expect(registry.list().map((s) => `${s.name} on ${s.listensOn()}`)).toEqual(['dns on test dns', 'ldap on test ldap']);
    expect(registry.get('ldap')).toBe(ldap);
    await registry.close();
    expect([dns.events, ldap.events]).toEqual([
      ['start', 'close'],
      ['start', 'close'],
    ]);
    expect(registry.list()).toEqual([]);
  });

  it('closes a service whose start failed, and refuses a second service of one name', async () => {
    const registry = new NetworkServiceRegistry();
    const broken = new Probe('dhcp', true);
    await expect(registry.start(broken)).rejects.toThrow(/dhcp cannot bind/);
    await expect(registry.start(new Probe('dhcp'))).rejects.toThrow(/started twice/);
    await registry.close();
    expect(broken.events).toEqual(['start', 'close']);
  });
});
