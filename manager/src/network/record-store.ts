/**
 * Registered DNS records in sqlite (the one table DNS reads them from), with change listeners so the
 * DNS server drops cached answers at once.
 *
 * @example
 * await records.add(parseRecord('MX', '@', '10 @', fqdn, zone), instanceId, null, { records: 64, bytes: 16384 });
 */
import type { RecordView } from '../../protocol/index.js';
import type { Database, Queryable } from '../db/database.js';
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

/** What one instance's registered records may add up to: how many, and their names' and values' bytes. */
export interface RecordQuota {
  readonly records: number;
  readonly bytes: number;
}

/** The size a record counts for against a quota: its name and value as stored. */
const recordBytes = (r: { name: string; value: string }): number => Buffer.byteLength(r.name) + Buffer.byteLength(r.value);

async function checkQuota(tx: Queryable, r: ParsedRecord, instanceId: string, quota: RecordQuota): Promise<void> {
  const held = (await tx.get<{ n: number; bytes: number }>(
    'SELECT count(*) AS n, coalesce(sum(length(CAST(name AS BLOB)) + length(CAST(value AS BLOB))), 0) AS bytes FROM dns_records WHERE instance_id = ?',
    [instanceId],
  ))!;
  if (held.n + 1 > quota.records) {
    throw MgrErr.MGR_ERR_RECORD_QUOTA(
      `the instance already holds ${held.n} records, the most it may register; an administrator can remove some (storm dns rm ID)`,
    );
  }
  if (held.bytes + recordBytes(r) > quota.bytes) {
    throw MgrErr.MGR_ERR_RECORD_QUOTA(
      `this record (${recordBytes(r)} bytes) would take the instance's records to ${held.bytes + recordBytes(r)} bytes, past the ${quota.bytes} it may hold; an administrator can remove some (storm dns rm ID)`,
    );
  }
}

export const recordView = (r: RecordRow): RecordView => ({
  id: r.id,
  instanceId: r.instance_id,
  type: r.type,
  name: r.name,
  value: r.value,
  ttl: r.ttl,
  createdAt: r.created_at,
});

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
    return (
      (await this.db.get('SELECT 1 FROM dns_records WHERE length(name) > ? AND substr(name, -?) = ? LIMIT 1', [
        suffix.length,
        suffix.length,
        suffix,
      ])) !== undefined
    );
  }

  /**
   * Adds a record (idempotent for the same type, name and value); returns its row. With a `quota`,
   * a new record that would take its instance past the count or bytes it may hold is refused.
   */
  async add(r: ParsedRecord, instanceId: string | null, ttl: number | null = null, quota?: RecordQuota): Promise<RecordRow> {
    const row = await this.db.transaction(async (tx) => {
      const same = await tx.get<RecordRow>('SELECT * FROM dns_records WHERE type = ? AND name = ? AND value = ?', [
        r.type,
        r.name,
        r.value,
      ]);
      if (!same && quota && instanceId !== null) await checkQuota(tx, r, instanceId, quota);
      const here = await tx.all<{ type: string }>('SELECT type FROM dns_records WHERE name = ?', [r.name]);
      if (r.type === 'CNAME' && here.some((x) => x.type !== 'CNAME'))
        throw MgrErr.MGR_ERR_CONFLICT(`${r.name} has other records; a CNAME must stand alone`);
      if (r.type !== 'CNAME' && here.some((x) => x.type === 'CNAME')) throw MgrErr.MGR_ERR_CONFLICT(`${r.name} is a CNAME`);
      await tx.run(
        'INSERT INTO dns_records (instance_id, type, name, value, ttl) VALUES (?, ?, ?, ?, ?) ON CONFLICT(type, name, value) DO UPDATE SET ttl = excluded.ttl',
        [instanceId, r.type, r.name, r.value, ttl],
      );
      return (await tx.get<RecordRow>('SELECT * FROM dns_records WHERE type = ? AND name = ? AND value = ?', [r.type, r.name, r.value]))!;
    });
    this.changed();
    return row;
  }

  async remove(id: number): Promise<void> {
    if ((await this.db.run('DELETE FROM dns_records WHERE id = ?', [id])).changes === 0) throw MgrErr.MGR_ERR_NOT_FOUND(`DNS record ${id}`);
    this.changed();
  }
}
