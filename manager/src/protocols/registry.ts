/**
 * The network services the manager runs: each is started through the registry, which closes them
 * all together on the way out and finds one by name.
 *
 * @example
 * const registry = new NetworkServiceRegistry();
 * const dns = await registry.start(new DnsServer(cfg, deps));
 * registry.list().map((s) => `${s.name} on ${s.listensOn()}`); // ['dns on udp+tcp 10.77.0.1:53']
 * await registry.close();
 */
import { MgrErr } from '../errors.js';
import type { NetworkService } from './network-service.js';

export class NetworkServiceRegistry {
  private readonly services = new Map<string, NetworkService>();

  /** Starts `service`; it is kept before it starts, so `close()` also frees a half-started one. */
  async start<T extends NetworkService>(service: T): Promise<T> {
    if (this.services.has(service.name)) throw MgrErr.MGR_ERR_INTERNAL(`network service ${service.name} started twice`);
    this.services.set(service.name, service);
    await service.start();
    return service;
  }

  get(name: string): NetworkService | undefined {
    return this.services.get(name);
  }

  list(): NetworkService[] {
    return [...this.services.values()];
  }

  /** Closes every service at once; the registry is empty after. */
  async close(): Promise<void> {
    const all = this.list();
    this.services.clear();
    await Promise.all(all.map((s) => s.close()));
  }
}
