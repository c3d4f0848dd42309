/**
 * Registered DNS records in sqlite (the one table DNS reads them from), with change listeners so the
 * DNS server drops cached answers at once.
 *
 * @example
 * await records.add(parseRecord('MX', '@', '10 @', fqdn, zone), instanceId);
 */
import type { RecordView } from '../../protocol/index.js';
import type { Database } from '../db/database.js';
import { MgrErr } from '../errors.js';
import type { RegisteredType } from './registered-record.js';
import type { ParsedRecord } from './dns-records.js';

export interface RecordRow {
  readonly id: number;
  readonly instance_id: string | null;
  readonly type: RegisteredType;
  readonly name: string;
  readonly value: string;
  readonly ttl: number | null;
  readonly created_at: string;
}

export const recordView = (r: RecordRow): RecordView => ({ id: r.id, instanceId: r.instance_id, type: r.type, name: r.name, value: r.value, ttl: r.ttl, createdAt: r.created_at });

export class RecordStore {
  private readonly listeners = new Set<() => void>();

  constructor(private readonly db: Database) {}

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  changed(): void {
    for (const fn of this.listeners) fn();
  }

  list(): Promise<RecordRow[]> {
    return this.db.all<RecordRow>('SELECT * FROM dns_records ORDER BY name, type, id');
  }

  byName(name: string, type?: RegisteredType): Promise<RecordRow[]> {
    return type
      ? this.db.all<RecordRow>('SELECT * FROM dns_records WHERE name = ? AND type = ? ORDER BY id', [name, type])
      : this.db.all<RecordRow>('SELECT * FROM dns_records WHERE name = ? ORDER BY id', [name]);
  }

  async hasBelow(name: string): Promise<boolean> {
    // substr avoids LIKE's wildcards in names (underscores are common: _smtp._tcp).
    const suffix = `.${name}`;
    return (await this.db.get('SELECT 1 FROM dns_records WHERE length(name) > ? AND substr(name, -?) = ? LIMIT 1', [suffix.length, suffix.length, suffix])) !== undefined;
  }

  /** Adds a record (idempotent for the same type, name and value); returns its row. */
  async add(r: ParsedRecord, instanceId: string | null, ttl: number | null = null): Promise<RecordRow> {
    if (r.type === 'CNAME' && (await this.byName(r.name)).some((x) => x.type !== 'CNAME')) throw MgrErr.MGR_ERR_CONFLICT(`${r.name} has other records; a CNAME must stand alone`);
    if (r.type !== 'CNAME' && (await this.byName(r.name, 'CNAME')).length) throw MgrErr.MGR_ERR_CONFLICT(`${r.name} is a CNAME`);
    await this.db.run('INSERT INTO dns_records (instance_id, type, name, value, ttl) VALUES (?, ?, ?, ?, ?) ON CONFLICT(type, name, value) DO UPDATE SET ttl = excluded.ttl', [instanceId, r.type, r.name, r.value, ttl]);
    this.changed();
    return (await this.db.get<RecordRow>('SELECT * FROM dns_records WHERE type = ? AND name = ? AND value = ?', [r.type, r.name, r.value]))!;
  }

  async remove(id: number): Promise<void> {
    if ((await this.db.run('DELETE FROM dns_records WHERE id = ?', [id])).changes === 0) throw MgrErr.MGR_ERR_NOT_FOUND(`DNS record ${id}`);
    this.changed();
  }
}
