/**
 * What the DHCP server is given: the reservations made at launch (read only, the manager's
 * database is their one source) and a store that keeps leases across restarts.
 *
 * @example
 * const reservations: ReservationSource = {
 *   byMac: async (mac) => (mac === '52:54:00:00:00:01' ? { ip: '10.77.0.10', hostname: 'web1' } : undefined),
 *   isReserved: async (ip) => ip === '10.77.0.10',
 * };
 */

/** The address and host name reserved for one instance's MAC at launch. */
export interface Reservation {
  readonly ip: string;
  /** A single DNS label, e.g. `web1`; sent as option 12. */
  readonly hostname: string;
}

export interface ReservationSource {
  /** The reservation for a lower-case `aa:bb:cc:dd:ee:ff` MAC, or undefined for an unknown MAC. */
  byMac(mac: string): Promise<Reservation | undefined>;
  /** True when `ip` is reserved for any instance; the dynamic pool never hands such an address out. */
  isReserved(ip: string): Promise<boolean>;
}

/** One bound lease. Offers are not leases: they live in memory for a few seconds only. */
export interface Lease {
  readonly mac: string;
  readonly ip: string;
  readonly hostname: string | null;
  /** Option 61 as hex, when the client sent one. */
  readonly clientId: string | null;
  /** Milliseconds since the epoch. */
  readonly expiresAt: number;
}

/** Durable lease storage. The server keeps the working copy in memory and writes through. */
export interface LeaseStore {
  /** Every stored lease, read once at start (expired ones included; the server ignores them). */
  all(): Promise<Lease[]>;
  /** Inserts or replaces the lease of `lease.mac`, dropping any other MAC's lease on the same IP; durable when it resolves. */
  put(lease: Lease): Promise<void>;
  /** Forgets the lease of `mac` (RELEASE, DECLINE); durable when it resolves. */
  remove(mac: string): Promise<void>;
}
