/**
 * The records an appliance (or an administrator) registers in the instance zone: MX, SRV, TXT and
 * CNAME, as the DNS server serves them (`protocols/dns/zone-source.ts`).
 *
 * @example
 * const mx: RegisteredRecord = { name: 'storm.internal', type: 'MX', data: { preference: 10, exchange: 'mail1.storm.internal' } };
 */
export type RegisteredType = 'MX' | 'SRV' | 'TXT' | 'CNAME';

interface RecordBase<T extends RegisteredType, D> {
  /** Fully qualified owner name inside the zone, e.g. `_ldap._tcp.storm.internal`. */
  readonly name: string;
  readonly type: T;
  /** Seconds; the zone's default TTL when absent. */
  readonly ttl?: number;
  readonly data: D;
}

/** A record an appliance registered (MX, SRV, TXT, CNAME). */
export type RegisteredRecord =
  | RecordBase<'MX', { readonly preference: number; readonly exchange: string }>
  | RecordBase<'SRV', { readonly priority: number; readonly weight: number; readonly port: number; readonly target: string }>
  | RecordBase<'TXT', readonly string[]>
  | RecordBase<'CNAME', string>;
