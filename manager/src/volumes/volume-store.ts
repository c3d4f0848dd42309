/**
 * The `volumes` table: one row per data volume (name, host, size, serial, the instance it is
 * attached to). Removing an instance's row ends its attachments (`ON DELETE SET NULL`).
 *
 * @example
 * await volumes.insert(tx, { name: 'pgdata', hostId, sizeMiB: 1024, serial: serialFor('pgdata') });
 * await volumes.attach(tx, 'pgdata', instanceId); // false when it is attached already
 */
import { createHash } from 'node:crypto';
import type { Database, Queryable } from '../db/database.js';
import type { VolumeView } from '../../protocol/index.js';

export interface VolumeRow {
  name: string;
  host_id: string;
  size_mib: number;
  format: 'qcow2';
  serial: string;
  instance_id: string | null;
  created_at: string;
}

interface VolumeViewRow extends VolumeRow {
  host_name: string;
  instance_name: string | null;
}

/** virtio-blk gives the guest at most 20 bytes of a disk's serial. */
const SERIAL_BYTES = 20;
const SERIAL_PREFIX = 'storm-vol-';

/** The guest's name for the volume: `storm-vol-<name>` when it fits, else `storm-vol-` and 10 hex of the name's sha256. */
/** The volume a launch makes for an appliance that declares one (docs/volumes.md "Declared by the appliance"). */
export const dataVolumeName = (instance: string): string => `${instance}-data`;
/** Volume names are at most this long (`VolumeName`), so `<instance>-data` needs an instance name of at most 27. */
export const VOLUME_NAME_MAX = 32;

export function serialFor(name: string): string {
  const plain = `${SERIAL_PREFIX}${name}`;
  if (plain.length <= SERIAL_BYTES) return plain;
  return `${SERIAL_PREFIX}${createHash('sha256')
    .update(name)
    .digest('hex')
    .slice(0, SERIAL_BYTES - SERIAL_PREFIX.length)}`;
}

const VIEW = `SELECT v.*, h.name AS host_name, i.name AS instance_name
  FROM volumes v JOIN hosts h ON h.id = v.host_id LEFT JOIN instances i ON i.id = v.instance_id`;

export function volumeView(r: VolumeViewRow): VolumeView {
  return {
    name: r.name,
    host: r.host_name,
    hostId: r.host_id,
    sizeMiB: r.size_mib,
    format: r.format,
    serial: r.serial,
    instance: r.instance_name,
    instanceId: r.instance_id,
    createdAt: r.created_at,
  };
}

export class VolumeStore {
  constructor(readonly db: Database) {}

  async list(): Promise<VolumeView[]> {
    return (await this.db.all<VolumeViewRow>(`${VIEW} ORDER BY v.name`)).map(volumeView);
  }

  async view(name: string): Promise<VolumeView | undefined> {
    const row = await this.db.get<VolumeViewRow>(`${VIEW} WHERE v.name = ?`, [name]);
    return row && volumeView(row);
  }

  get(name: string, q: Queryable = this.db): Promise<VolumeRow | undefined> {
    return q.get<VolumeRow>('SELECT * FROM volumes WHERE name = ?', [name]);
  }

  byInstance(instanceId: string, q: Queryable = this.db): Promise<VolumeRow[]> {
    return q.all<VolumeRow>('SELECT * FROM volumes WHERE instance_id = ? ORDER BY name', [instanceId]);
  }

  /** Volumes per host id, for choosing a host. */
  async countByHost(): Promise<Map<string, number>> {
    const rows = await this.db.all<{ host_id: string; n: number }>('SELECT host_id, COUNT(*) AS n FROM volumes GROUP BY host_id');
    return new Map(rows.map((r) => [r.host_id, r.n]));
  }

  async insert(q: Queryable, v: { name: string; hostId: string; sizeMiB: number; serial: string }): Promise<void> {
    await q.run('INSERT INTO volumes (name, host_id, size_mib, serial) VALUES (?, ?, ?, ?)', [v.name, v.hostId, v.sizeMiB, v.serial]);
  }

  async remove(q: Queryable, name: string): Promise<void> {
    await q.run('DELETE FROM volumes WHERE name = ?', [name]);
  }

  /** Attaches when it is free; false when it is attached to anything already. */
  async attach(q: Queryable, name: string, instanceId: string): Promise<boolean> {
    return (await q.run('UPDATE volumes SET instance_id = ? WHERE name = ? AND instance_id IS NULL', [instanceId, name])).changes === 1;
  }

  /** Ends the attachment to `instanceId` (nothing when it is attached elsewhere or not at all). */
  async detach(q: Queryable, name: string, instanceId: string): Promise<void> {
    await q.run('UPDATE volumes SET instance_id = NULL WHERE name = ? AND instance_id = ?', [name, instanceId]);
  }
}
