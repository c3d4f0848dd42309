/**
 * In-memory reservations and lease store, for tests and for embedding the server without a
 * database. Same contracts as the database-backed ones.
 *
 * @example
 * const reservations = new MemoryReservations({ '52:54:00:00:00:01': { ip: '10.77.0.10', hostname: 'web1' } });
 * const leases = new MemoryLeaseStore();
 */
import type { Lease, LeaseStore, Reservation, ReservationSource } from './sources.js';

export class MemoryReservations implements ReservationSource {
  private readonly byMacMap = new Map<string, Reservation>();

  constructor(initial: Readonly<Record<string, Reservation>> = {}) {
    for (const [mac, r] of Object.entries(initial)) this.set(mac, r);
  }

  set(mac: string, reservation: Reservation): void {
    this.byMacMap.set(mac.toLowerCase(), reservation);
  }

  delete(mac: string): void {
    this.byMacMap.delete(mac.toLowerCase());
  }

  async byMac(mac: string): Promise<Reservation | undefined> {
    return this.byMacMap.get(mac);
  }

  async isReserved(ip: string): Promise<boolean> {
    for (const r of this.byMacMap.values()) if (r.ip === ip) return true;
    return false;
  }
}

export class MemoryLeaseStore implements LeaseStore {
  readonly leases = new Map<string, Lease>();

  async all(): Promise<Lease[]> {
    return [...this.leases.values()];
  }

  async put(lease: Lease): Promise<void> {
    for (const [mac, l] of this.leases) if (l.ip === lease.ip && mac !== lease.mac) this.leases.delete(mac);
    this.leases.set(lease.mac, lease);
  }

  async remove(mac: string): Promise<void> {
    this.leases.delete(mac);
  }
}
