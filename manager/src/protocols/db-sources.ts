/**
 * The DNS zone and the DHCP reservations, read from the manager's database: the instances' reserved
 * addresses and names, and the registered records. No host table is written twice.
 *
 * @example
 * new DnsServer(cfg, { zone: new DbZoneSource(db, records, net) });
 * new DhcpServer(cfg, { reservations: new DbReservations(db), leases: new SqliteLeaseStore(db) });
 */
import type { Database } from '../db/database.js';
import type { Reservation, ReservationSource } from './dhcp/sources.js';
import type { RegisteredRecord, RegisteredType } from '../network/registered-record.js';
import type { InstanceAddress, ZoneSource } from './dns/zone-source.js';
import { toRegistered } from '../network/dns-records.js';
import type { NetworkSettings } from '../network/network-settings.js';
import type { RecordStore } from '../network/record-store.js';

export class DbZoneSource implements ZoneSource {
  constructor(
    private readonly db: Database,
    private readonly records_: RecordStore,
    private readonly net: NetworkSettings,
    /** Records the manager's own services publish (the realm's `_kerberos` SRV and TXT), never stored. */
    private readonly fixed: readonly RegisteredRecord[] = [],
  ) {}

  async managerAddress(): Promise<string> {
    return this.net.managerAddress;
  }

  async instanceByName(label: string): Promise<InstanceAddress | undefined> {
    return this.db.get<InstanceAddress>('SELECT name, ip FROM instances WHERE name = ? AND ip IS NOT NULL', [label]);
  }

  async instanceByAddress(ip: string): Promise<InstanceAddress | undefined> {
    return this.db.get<InstanceAddress>('SELECT name, ip FROM instances WHERE ip = ?', [ip]);
  }

  async records(name: string, type?: RegisteredType): Promise<readonly RegisteredRecord[]> {
    const fixed = this.fixed.filter((r) => r.name === name && (type === undefined || r.type === type));
    return [...fixed, ...(await this.records_.byName(name, type)).map(toRegistered)];
  }

  async hasNamesBelow(name: string): Promise<boolean> {
    return this.fixed.some((r) => r.name.endsWith(`.${name}`)) || this.records_.hasBelow(name);
  }

  onChange(listener: () => void): () => void {
    return this.records_.onChange(listener);
  }
}

export class DbReservations implements ReservationSource {
  constructor(private readonly db: Database) {}

  async byMac(mac: string): Promise<Reservation | undefined> {
    const row = await this.db.get<{ ip: string; name: string }>('SELECT ip, name FROM instances WHERE mac = ? AND ip IS NOT NULL', [
      mac.toLowerCase(),
    ]);
    return row ? { ip: row.ip, hostname: row.name } : undefined;
  }

  async isReserved(ip: string): Promise<boolean> {
    return (await this.db.get('SELECT 1 FROM instances WHERE ip = ?', [ip])) !== undefined;
  }
}
