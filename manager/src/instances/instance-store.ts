/**
 * Instances and their layer stacks in sqlite: the desired state the reconcile loop holds hosts to.
 * The one module that writes `instances` and `instance_files`; the methods that take a `Queryable`
 * run in the caller's transaction (a journal step's).
 */
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
  readonly created_at: string;
  readonly updated_at: string;
}

/** The columns a heartbeat or reconcile compares with a host's view: a host's rows read without their specs and params. */
export type InstanceBrief = Pick<InstanceRow, 'id' | 'name' | 'state' | 'desired' | 'last_error' | 'updated_at'>;

/** A state a host's view calls for, written only over the state it was compared with. */
export interface StateChange {
  readonly id: string;
  readonly from: InstanceState;
  readonly state: InstanceState;
}

export interface InstanceFile {
  readonly position: number;
  readonly role: 'layer' | 'kernel' | 'initrd';
  readonly kind: string;
  readonly sha256: string;
  readonly size: number;
}

/** A stack as an instance's record holds it (what a lifecycle operation writes, and its undo writes back). */
export interface RecordedStack {
  readonly appliance: string;
  readonly version: string;
  readonly channelId: string | null;
  readonly memoryMiB: number;
  readonly vcpus: number;
  readonly params: string;
  readonly guestSpec: string;
  readonly files: readonly InstanceFile[];
  readonly frozen: readonly string[];
}

export type NewInstance = Pick<
  InstanceRow,
  | 'id'
  | 'name'
  | 'uuid'
  | 'channel_id'
  | 'appliance'
  | 'version'
  | 'host_id'
  | 'mac'
  | 'memory_mib'
  | 'vcpus'
  | 'params'
  | 'token_hash'
  | 'guest_spec'
>;

const NOW = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

export class InstanceStore {
  constructor(private readonly db: Database) {}

  list(): Promise<InstanceRow[]> {
    return this.db.all<InstanceRow>('SELECT * FROM instances ORDER BY created_at, id');
  }

  async names(): Promise<string[]> {
    return (await this.db.all<{ name: string }>('SELECT name FROM instances ORDER BY created_at, id')).map((r) => r.name);
  }

  /** At most `limit` rows after `after` (created_at, id: the list's order), oldest first. */
  page(limit: number, after?: { createdAt: string; id: string }): Promise<InstanceRow[]> {
    return after
      ? this.db.all<InstanceRow>('SELECT * FROM instances WHERE (created_at, id) > (?, ?) ORDER BY created_at, id LIMIT ?', [
          after.createdAt,
          after.id,
          limit,
        ])
      : this.db.all<InstanceRow>('SELECT * FROM instances ORDER BY created_at, id LIMIT ?', [limit]);
  }

  /** Which of `ids` have a record: one query, the size of the question, not of the site. */
  async known(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await this.db.all<{ id: string }>(`SELECT id FROM instances WHERE id IN (${ids.map(() => '?').join(', ')})`, ids);
    return new Set(rows.map((r) => r.id));
  }

  byHost(hostId: string): Promise<InstanceRow[]> {
    return this.db.all<InstanceRow>('SELECT * FROM instances WHERE host_id = ?', [hostId]);
  }

  /** A host's rows, only what a host's view is compared with: no guest spec or params parsed per row per heartbeat. */
  briefsByHost(hostId: string): Promise<InstanceBrief[]> {
    return this.db.all<InstanceBrief>('SELECT id, name, state, desired, last_error, updated_at FROM instances WHERE host_id = ?', [hostId]);
  }

  get(id: string): Promise<InstanceRow | undefined> {
    return this.db.get<InstanceRow>('SELECT * FROM instances WHERE id = ?', [id]);
  }

  byName(name: string): Promise<InstanceRow | undefined> {
    return this.db.get<InstanceRow>('SELECT * FROM instances WHERE name = ?', [name]);
  }

  /** The instance that holds an appliance-network address (the column is unique, so indexed). */
  byAddress(ip: string): Promise<InstanceRow | undefined> {
    return this.db.get<InstanceRow>('SELECT * FROM instances WHERE ip = ?', [ip]);
  }

  /** The instance whose guest token hashes to `hash` (SHA-256, hex). */
  byTokenHash(hash: string): Promise<InstanceRow | undefined> {
    return this.db.get<InstanceRow>('SELECT * FROM instances WHERE token_hash = ?', [hash]);
  }

  files(id: string): Promise<InstanceFile[]> {
    return this.db.all<InstanceFile>(
      'SELECT position, role, kind, sha256, size FROM instance_files WHERE instance_id = ? ORDER BY position',
      [id],
    );
  }

  /** The files of every instance (or of `ids`), per instance id, in one query (a list must not ask once per instance). */
  async allFiles(ids?: readonly string[]): Promise<Map<string, InstanceFile[]>> {
    const where = ids ? `WHERE instance_id IN (${ids.map(() => '?').join(', ')})` : '';
    const rows = await this.db.all<InstanceFile & { instance_id: string }>(
      `SELECT instance_id, position, role, kind, sha256, size FROM instance_files ${where} ORDER BY instance_id, position`,
      ids ?? [],
    );
    const byInstance = new Map<string, InstanceFile[]>();
    for (const { instance_id, ...f } of rows) {
      const list = byInstance.get(instance_id) ?? [];
      list.push(f);
      byInstance.set(instance_id, list);
    }
    return byInstance;
  }

  /** A launching instance's record, with no address yet (the network module gives it one). */
  async insert(tx: Queryable, row: NewInstance, files: readonly InstanceFile[]): Promise<void> {
    await tx.run(
      `INSERT INTO instances (id, name, uuid, channel_id, appliance, version, host_id, state, desired, mac, memory_mib, vcpus, params, token_hash, guest_spec)
       VALUES (?, ?, ?, ?, ?, ?, ?, 'launching', 'running', ?, ?, ?, ?, ?, ?)`,
      [
        row.id,
        row.name,
        row.uuid,
        row.channel_id,
        row.appliance,
        row.version,
        row.host_id,
        row.mac,
        row.memory_mib,
        row.vcpus,
        row.params,
        row.token_hash,
        row.guest_spec,
      ],
    );
    await this.writeFiles(tx, row.id, files);
  }

  /** Every address instances hold (read in the transaction that gives the next one). */
  async addresses(q: Queryable): Promise<string[]> {
    return (await q.all<{ ip: string }>('SELECT ip FROM instances WHERE ip IS NOT NULL')).map((r) => r.ip);
  }

  async setAddress(q: Queryable, id: string, ip: string | null): Promise<void> {
    await q.run('UPDATE instances SET ip = ? WHERE id = ?', [ip, id]);
  }

  /** The host the instance lives on (a move's switch), in the caller's transaction. */
  async setHost(id: string, hostId: string, q: Queryable = this.db): Promise<void> {
    await q.run(`UPDATE instances SET host_id = ?, updated_at = ${NOW} WHERE id = ?`, [hostId, id]);
  }

  /** Sets a state the manager drives (its error cleared when it settles: `running`), in a transaction. */
  async mark(q: Queryable, id: string, state: InstanceState): Promise<void> {
    await q.run(`UPDATE instances SET state = ?, ${state === 'running' ? 'last_error = NULL, ' : ''}updated_at = ${NOW} WHERE id = ?`, [
      state,
      id,
    ]);
  }

  /** Puts the instance on `stack` (its files, frozen layers and what goes with them), in `state`, its error cleared. */
  async writeStack(q: Queryable, id: string, stack: RecordedStack, state: InstanceState): Promise<void> {
    await q.run('DELETE FROM instance_files WHERE instance_id = ?', [id]);
    await this.writeFiles(q, id, stack.files);
    await q.run(
      `UPDATE instances SET frozen = ?, appliance = ?, version = ?, channel_id = ?, memory_mib = ?, vcpus = ?, params = ?, guest_spec = ?, state = ?, last_error = NULL, updated_at = ${NOW} WHERE id = ?`,
      [
        JSON.stringify(stack.frozen),
        stack.appliance,
        stack.version,
        stack.channelId,
        stack.memoryMiB,
        stack.vcpus,
        stack.params,
        stack.guestSpec,
        state,
        id,
      ],
    );
  }

  /** The frozen layers under the current one (flatten's merged stack), in `state`, its error cleared. */
  async setFrozen(q: Queryable, id: string, frozen: readonly string[], state: InstanceState): Promise<void> {
    await q.run(`UPDATE instances SET frozen = ?, state = ?, last_error = NULL, updated_at = ${NOW} WHERE id = ?`, [
      JSON.stringify(frozen),
      state,
      id,
    ]);
  }

  private async writeFiles(q: Queryable, id: string, files: readonly InstanceFile[]): Promise<void> {
    for (const f of files) {
      await q.run('INSERT INTO instance_files (instance_id, position, role, kind, sha256, size) VALUES (?, ?, ?, ?, ?, ?)', [
        id,
        f.position,
        f.role,
        f.kind,
        f.sha256,
        f.size,
      ]);
    }
  }

  /** Sets the state (and optionally desired state and error); true when the state changed. */
  async setState(
    id: string,
    state: InstanceState,
    extra: { desired?: 'running' | 'stopped'; error?: string | null } = {},
  ): Promise<boolean> {
    const before = await this.get(id);
    if (!before) return false;
    const desired = extra.desired ?? before.desired;
    const error = extra.error === undefined ? before.last_error : extra.error;
    // A heartbeat mostly repeats what is known: no write (an fsync each) when nothing changes.
    if (before.state === state && before.desired === desired && before.last_error === error) return false;
    await this.db.run(
      `UPDATE instances SET state = ?, desired = ?, last_error = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?`,
      [state, desired, error, id],
    );
    return before.state !== state;
  }

  /**
   * Many states in one transaction (one commit, not one per row), each only over the state it was
   * compared with: a row an action changed since keeps the action's. The ids whose state changed.
   */
  async setStates(changes: readonly StateChange[]): Promise<Set<string>> {
    const changed = new Set<string>();
    if (changes.length === 0) return changed;
    await this.db.transaction(async (tx) => {
      for (const c of changes) {
        const r = await tx.run(`UPDATE instances SET state = ?, updated_at = ${NOW} WHERE id = ? AND state = ?`, [c.state, c.id, c.from]);
        if (r.changes > 0) changed.add(c.id);
      }
    });
    return changed;
  }

  /** The guest's last reported status, as JSON. */
  async setGuestStatus(id: string, json: string): Promise<void> {
    await this.db.run("UPDATE instances SET guest_status = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?", [json, id]);
  }

  /** The record goes, and with it its files and DNS records (foreign keys). */
  async remove(id: string, q: Queryable = this.db): Promise<void> {
    await q.run('DELETE FROM instances WHERE id = ?', [id]);
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
