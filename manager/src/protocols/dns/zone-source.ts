/**
 * Where the DNS server's authoritative data comes from. The manager implements it over its
 * database (reservations and registered records), so DHCP and DNS read one source of truth;
 * `MemoryZoneSource` implements it for tests. Names are lower case, without a trailing dot.
 *
 * @example
 * const zone: ZoneSource = {
 *   managerAddress: async () => '10.77.0.1',
 *   instanceByName: async (label) => (label === 'web1' ? { name: 'web1', ip: '10.77.0.10' } : undefined),
 *   instanceByAddress: async (ip) => (ip === '10.77.0.10' ? { name: 'web1', ip } : undefined),
 *   records: async () => [],
 *   hasNamesBelow: async () => false,
 * };
 */
import type { RegisteredRecord, RegisteredType } from '../../network/registered-record.js';

/** An instance's reserved address; `name` is its single label, e.g. `web1` for `web1.storm.internal`. */
export interface InstanceAddress {
  readonly name: string;
  readonly ip: string;
}

export interface ZoneSource {
  /** The manager's address on the appliance network: the A record of `storm.local`. */
  managerAddress(): Promise<string>;
  /** The instance whose label is `label` (lower case, one label), if any. */
  instanceByName(label: string): Promise<InstanceAddress | undefined>;
  /** The instance whose reserved address is `ip`, for PTR answers. */
  instanceByAddress(ip: string): Promise<InstanceAddress | undefined>;
  /** Registered records owned by `name`, only those of `type` when given. */
  records(name: string, type?: RegisteredType): Promise<readonly RegisteredRecord[]>;
  /** True when some registered record is owned by a name below `name` (so `name` exists, empty: NODATA, not NXDOMAIN). */
  hasNamesBelow(name: string): Promise<boolean>;
  /** Optional: calls `listener` after any change, so cached answers are dropped at once; returns an unsubscribe. */
  onChange?(listener: () => void): () => void;
}
