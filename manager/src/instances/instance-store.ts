/** Instances and their layer stacks in sqlite: the desired state the reconcile loop holds hosts to. */
import type { Database, Queryable } from '../db/database.js';

export type InstanceState =
  | 'launching'
  | 'running'
  | 'stopped'
  | 'paused'
  | 'stopping'
  | 'crashed'
  | 'unknown'
  | 'lost'
  | 'failed'
  | 'destroying';

export interface InstanceRow {
  readonly id: string;
  readonly name: string;
  readonly uuid: string;
  readonly channel_id: string | null;
  readonly appliance: string;
  readonly version: string;
  readonly host_id: string | null;
  readonly state: InstanceState;
  readonly desired: 'running' | 'stopped';
  readonly launch_step: string | null;
  readonly mac: string;
  readonly ip: string | null;
  readonly memory_mib: number;
  readonly vcpus: number;
  readonly params: string;
  readonly token_hash: string | null;
  readonly last_error: string | null;
  readonly guest_status: string | null;
  /** JSON `GuestSpec`: the config items and records the guest is configured from. */
  readonly guest_spec: string;
  /** JSON array of the frozen writable layers (host ids) of the current stack, bottom first. */
  readonly frozen: string;
  /** JSON of a lifecycle operation under way, or null. */
  readonly operation: string | null;
  readonly created_at: string;
  readonly updated_at: string;
}

export interface InstanceFile {
  readonly position: number;
  readonly role: 'layer' | 'kernel' | 'initrd';
  readonly kind: string;
  readonly sha256: string;
  readonly size: number;
}

export class InstanceStore {
  constructor(private readonly db: Database) {}

  list(): Promise<InstanceRow[]> {
    return this.db.all<InstanceRow>('SELECT * FROM instances ORDER BY created_at, id');
  }

  /** At most `limit` rows after `after` (created_at, id: the list's order), oldest first. */
  page(limit: number, after?: { createdAt: string; id: string }): Promise<InstanceRow[]> {
    return after
      ? this.db.all<InstanceRow>('SELECT * FROM instances WHERE (created_at, id) > (?, ?) ORDER BY created_at, id LIMIT ?', [after.createdAt, after.id, limit])
      : this.db.all<InstanceRow>('SELECT * FROM instances ORDER BY created_at, id LIMIT ?', [limit]);
  }

  byHost(hostId: string): Promise<InstanceRow[]> {
    return this.db.all<InstanceRow>('SELECT * FROM instances WHERE host_id = ?', [hostId]);
  }

  get(id: string): Promise<InstanceRow | undefined> {
    return this.db.get<InstanceRow>('SELECT * FROM instances WHERE id = ?', [id]);
  }

  byName(name: string): Promise<InstanceRow | undefined> {
    return this.db.get<InstanceRow>('SELECT * FROM instances WHERE name = ?', [name]);
  }

  /** The instance whose guest token hashes to `hash` (SHA-256, hex). */
  byTokenHash(hash: string): Promise<InstanceRow | undefined> {
    return this.db.get<InstanceRow>('SELECT * FROM instances WHERE token_hash = ?', [hash]);
  }

  files(id: string): Promise<InstanceFile[]> {
    return this.db.all<InstanceFile>('SELECT position, role, kind, sha256, size FROM instance_files WHERE instance_id = ? ORDER BY position', [id]);
  }

  /** The files of every instance (or of `ids`), per instance id, in one query (a list must not ask once per instance). */
  async allFiles(ids?: readonly string[]): Promise<Map<string, InstanceFile[]>> {
    const where = ids ? `WHERE instance_id IN (${ids.map(() => '?').join(', ')})` : '';
    const rows = await this.db.all<InstanceFile & { instance_id: string }>(`SELECT instance_id, position, role, kind, sha256, size FROM instance_files ${where} ORDER BY instance_id, position`, ids ?? []);
    const byInstance = new Map<string, InstanceFile[]>();
    for (const { instance_id, ...f } of rows) {
      const list = byInstance.get(instance_id) ?? [];
      list.push(f);
      byInstance.set(instance_id, list);
    }
    return byInstance;
  }

  async insert(
    tx: Queryable,
    row: Pick<InstanceRow, 'id' | 'name' | 'uuid' | 'channel_id' | 'appliance' | 'version' | 'host_id' | 'mac' | 'memory_mib' | 'vcpus' | 'params' | 'token_hash' | 'guest_spec'> & { ip: string | null },
    files: readonly InstanceFile[],
  ): Promise<void> {
    await tx.run(
      `INSERT INTO instances (id, name, uuid, channel_id, appliance, version, host_id, state, desired, launch_step, mac, ip, memory_mib, vcpus, params, token_hash, guest_spec)
       VALUES (?, ?, ?, ?, ?, ?, ?, 'launching', 'running', 'reserved', ?, ?, ?, ?, ?, ?, ?)`,
      [row.id, row.name, row.uuid, row.channel_id, row.appliance, row.version, row.host_id, row.mac, row.ip, row.memory_mib, row.vcpus, row.params, row.token_hash, row.guest_spec],
    );
    for (const f of files) {
      await tx.run('INSERT INTO instance_files (instance_id, position, role, kind, sha256, size) VALUES (?, ?, ?, ?, ?, ?)', [row.id, f.position, f.role, f.kind, f.sha256, f.size]);
    }
  }

  async setStep(id: string, step: string | null): Promise<void> {
    await this.db.run("UPDATE instances SET launch_step = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?", [step, id]);
  }

  /** Sets the state (and optionally desired state, error, launch step); true when the state changed. */
  async setState(id: string, state: InstanceState, extra: { desired?: 'running' | 'stopped'; error?: string | null; step?: string | null } = {}): Promise<boolean> {
    const before = await this.get(id);
    if (!before) return false;
    await this.db.run(
      `UPDATE instances SET state = ?, desired = ?, last_error = ?, launch_step = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?`,
      [state, extra.desired ?? before.desired, extra.error === undefined ? before.last_error : extra.error, extra.step === undefined ? before.launch_step : extra.step, id],
    );
    return before.state !== state;
  }

  /** The guest's last reported status, as JSON. */
  async setGuestStatus(id: string, json: string): Promise<void> {
    await this.db.run("UPDATE instances SET guest_status = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?", [json, id]);
  }

  async remove(id: string): Promise<void> {
    await this.db.run('DELETE FROM instances WHERE id = ?', [id]);
  }

  /**
   * What the records say STORM's instances hold on each host, per host id: how many there are and
   * the memory of those that hold it (every state but stopped, crashed, failed and lost). Read in
   * the launch's reserve transaction, so a launch counts every launch reserved before it.
   */
  async hostLoad(q: Queryable = this.db): Promise<Map<string, { instances: number; heldMiB: number }>> {
    const rows = await q.all<{ host_id: string; n: number; mib: number }>(
      `SELECT host_id, COUNT(*) AS n, SUM(CASE WHEN state IN ('stopped', 'crashed', 'failed', 'lost') THEN 0 ELSE memory_mib END) AS mib
       FROM instances WHERE host_id IS NOT NULL GROUP BY host_id`,
    );
    return new Map(rows.map((r) => [r.host_id, { instances: r.n, heldMiB: r.mib }]));
  }
}
