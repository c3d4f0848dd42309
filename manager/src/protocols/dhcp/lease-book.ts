/**
 * The server's working copy of who holds which address: bound leases (mirrored to the LeaseStore),
 * outstanding offers and declined addresses (memory only, they last seconds to minutes).
 * Everything here is synchronous so a check and a claim cannot be split by another packet.
 *
 * @example
 * const book = new LeaseBook(() => Date.now());
 * book.offer('52:54:00:00:00:01', '10.77.0.50', 60_000);
 * book.holderOf('10.77.0.50'); // '52:54:00:00:00:01'
 */
import type { Lease } from './sources.js';

interface Offer {
  readonly ip: string;
  readonly until: number;
}

/** Sweep expired offers and declines once a map grows past this, so memory stays bounded. */
const SWEEP_AT = 4096;

export class LeaseBook {
  private readonly leases = new Map<string, Lease>();
  private readonly leaseByIp = new Map<string, string>();
  private readonly offers = new Map<string, Offer>();
  private readonly offerByIp = new Map<string, string>();
  private readonly declined = new Map<string, number>();

  constructor(private readonly now: () => number) {}

  load(leases: readonly Lease[]): void {
    for (const l of leases) this.bind(l);
  }

  /** The MAC's lease, expired or not (an expired lease still says which address it last had). */
  leaseOf(mac: string): Lease | undefined {
    return this.leases.get(mac);
  }

  isActive(lease: Lease): boolean {
    return lease.expiresAt > this.now();
  }

  offerOf(mac: string): string | undefined {
    const o = this.offers.get(mac);
    return o && o.until > this.now() ? o.ip : undefined;
  }

  /** The MAC holding `ip` through an unexpired lease or offer, if any. */
  holderOf(ip: string): string | undefined {
    const leased = this.leaseByIp.get(ip);
    if (leased !== undefined && this.isActive(this.leases.get(leased)!)) return leased;
    const offered = this.offerByIp.get(ip);
    if (offered !== undefined && this.offerOf(offered) === ip) return offered;
    return undefined;
  }

  /** True when `ip` is free for `mac`: nobody else holds it and it is not declined. */
  freeFor(ip: string, mac: string): boolean {
    const holder = this.holderOf(ip);
    return (holder === undefined || holder === mac) && !this.isDeclined(ip);
  }

  isDeclined(ip: string): boolean {
    const until = this.declined.get(ip);
    return until !== undefined && until > this.now();
  }

  offer(mac: string, ip: string, holdMs: number): void {
    this.dropOffer(mac);
    if (this.offers.size >= SWEEP_AT) this.sweep();
    this.offers.set(mac, { ip, until: this.now() + holdMs });
    this.offerByIp.set(ip, mac);
  }

  dropOffer(mac: string): void {
    const o = this.offers.get(mac);
    if (!o) return;
    this.offers.delete(mac);
    if (this.offerByIp.get(o.ip) === mac) this.offerByIp.delete(o.ip);
  }

  bind(lease: Lease): void {
    this.unbind(lease.mac);
    const prior = this.leaseByIp.get(lease.ip);
    if (prior !== undefined) this.leases.delete(prior);
    this.leases.set(lease.mac, lease);
    this.leaseByIp.set(lease.ip, lease.mac);
    this.dropOffer(lease.mac);
  }

  unbind(mac: string): void {
    const l = this.leases.get(mac);
    if (!l) return;
    this.leases.delete(mac);
    if (this.leaseByIp.get(l.ip) === mac) this.leaseByIp.delete(l.ip);
  }

  decline(ip: string, holdMs: number): void {
    if (this.declined.size >= SWEEP_AT) this.sweep();
    this.declined.set(ip, this.now() + holdMs);
    const offered = this.offerByIp.get(ip);
    if (offered !== undefined) this.dropOffer(offered);
  }

  get size(): { leases: number; offers: number; declined: number } {
    return { leases: this.leases.size, offers: this.offers.size, declined: this.declined.size };
  }

  private sweep(): void {
    const now = this.now();
    for (const [mac, o] of this.offers) if (o.until <= now) this.dropOffer(mac);
    for (const [ip, until] of this.declined) if (until <= now) this.declined.delete(ip);
  }
}
