/**
 * A ZoneSource held in memory, for tests and benchmarks. Mutators notify `onChange` listeners
 * just as the database-backed source does after a write.
 *
 * @example
 * const zone = new MemoryZoneSource('10.77.0.1');
 * zone.addInstance('web1', '10.77.0.10');
 * zone.addRecord({ name: 'storm.internal', type: 'MX', data: { preference: 10, exchange: 'mail.storm.internal' } });
 */
import type { RegisteredRecord, RegisteredType } from '../../network/registered-record.js';
import type { InstanceAddress, ZoneSource } from './zone-source.js';

export class MemoryZoneSource implements ZoneSource {
  private readonly byName = new Map<string, InstanceAddress>();
  private readonly byIp = new Map<string, InstanceAddress>();
  private readonly recordList: RegisteredRecord[] = [];
  private readonly listeners = new Set<() => void>();

  constructor(private manager: string) {}

  setManagerAddress(ip: string): void {
    this.manager = ip;
    this.changed();
  }

  addInstance(name: string, ip: string): void {
    const entry = { name: name.toLowerCase(), ip };
    this.byName.set(entry.name, entry);
    this.byIp.set(ip, entry);
    this.changed();
  }

  removeInstance(name: string): void {
    const entry = this.byName.get(name.toLowerCase());
    if (!entry) return;
    this.byName.delete(entry.name);
    this.byIp.delete(entry.ip);
    this.changed();
  }

  addRecord(record: RegisteredRecord): void {
    this.recordList.push({ ...record, name: record.name.toLowerCase() } as RegisteredRecord);
    this.changed();
  }

  async managerAddress(): Promise<string> {
    return this.manager;
  }

  async instanceByName(label: string): Promise<InstanceAddress | undefined> {
    return this.byName.get(label);
  }

  async instanceByAddress(ip: string): Promise<InstanceAddress | undefined> {
    return this.byIp.get(ip);
  }

  async records(name: string, type?: RegisteredType): Promise<readonly RegisteredRecord[]> {
    return this.recordList.filter((r) => r.name === name && (type === undefined || r.type === type));
  }

  async hasNamesBelow(name: string): Promise<boolean> {
    return this.recordList.some((r) => r.name.endsWith(`.${name}`));
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }
}
