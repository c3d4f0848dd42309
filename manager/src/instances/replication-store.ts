/**
 * The `replicas` table: which host keeps a copy of an instance's frozen layers, which of them it
 * holds and as of which checkpoint. One replica per instance, never on its own host.
 *
 * @example
 * const replicas = new ReplicaStore(db);
 * await replicas.set('i-1', 'h-b');                         // from now on, each checkpoint is copied to h-b
 * await replicas.copied('i-1', 'cp-…', ['w0'], 1048576);    // after the copy
 * (await replicas.byInstances(['i-1'])).get('i-1')?.host_id; // 'h-b'
 */
import type { Database, Queryable } from '../db/database.js';

export interface ReplicaRow {
  readonly instance_id: string;
  readonly host_id: string;
  /** The checkpoint whose frozen layers the host holds; null before the first copy. */
  readonly checkpoint_id: string | null;
  /** JSON: the frozen layer ids (`w0`, …) the replica host holds. */
  readonly layers: string;
  readonly bytes: number;
  readonly replicated_at: string | null;
  /** Why the last copy failed (cleared by one that succeeds). */
  readonly error: string | null;
  /** The manager checkpoints the instance this often, in seconds (`--every`); null: only when asked. */
  readonly every_s: number | null;
  readonly created_at: string;
}

const NOW = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

export class ReplicaStore {
  constructor(private readonly db: Database) {}

  get(instanceId: string, q: Queryable = this.db): Promise<ReplicaRow | undefined> {
    return q.get<ReplicaRow>('SELECT * FROM replicas WHERE instance_id = ?', [instanceId]);
  }

  /** The replica of each of these instances that has one. */
  async byInstances(ids: readonly string[]): Promise<Map<string, ReplicaRow>> {
    if (ids.length === 0) return new Map();
    const rows = await this.db.all<ReplicaRow>(`SELECT * FROM replicas WHERE instance_id IN (${ids.map(() => '?').join(', ')})`, ids);
    return new Map(rows.map((r) => [r.instance_id, r]));
  }

  byHost(hostId: string): Promise<ReplicaRow[]> {
    return this.db.all<ReplicaRow>('SELECT * FROM replicas WHERE host_id = ?', [hostId]);
  }

  /** The instance's replica is on `hostId`, checkpointed every `everyS` seconds or only when asked (a new host starts with nothing copied). */
  async set(instanceId: string, hostId: string, everyS: number | null = null): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.run(
        `INSERT INTO replicas (instance_id, host_id) VALUES (?, ?)
         ON CONFLICT (instance_id) DO UPDATE SET host_id = excluded.host_id, checkpoint_id = NULL, layers = '[]', bytes = 0,
           replicated_at = NULL, error = NULL WHERE replicas.host_id <> excluded.host_id`,
        [instanceId, hostId],
      );
      await tx.run('UPDATE replicas SET every_s = ? WHERE instance_id = ?', [everyS, instanceId]);
    });
  }

  /** Replicas the manager checkpoints on a schedule, with their instance's last checkpoint time (null: none yet). */
  scheduled(): Promise<(ReplicaRow & { readonly last_checkpoint: string | null })[]> {
    return this.db.all(
      `SELECT r.*, (SELECT MAX(c.created_at) FROM checkpoints c WHERE c.instance_id = r.instance_id) AS last_checkpoint
         FROM replicas r WHERE r.every_s IS NOT NULL`,
    );
  }

  /** A copy went through: the host holds `layers` as of `checkpointId`. */
  async copied(instanceId: string, checkpointId: string | null, layers: readonly string[], bytes: number): Promise<void> {
    await this.db.run(
      `UPDATE replicas SET checkpoint_id = ?, layers = ?, bytes = ?, replicated_at = ${NOW}, error = NULL WHERE instance_id = ?`,
      [checkpointId, JSON.stringify(layers), bytes, instanceId],
    );
  }

  async failed(instanceId: string, error: string): Promise<void> {
    await this.db.run('UPDATE replicas SET error = ? WHERE instance_id = ?', [error.slice(0, 500), instanceId]);
  }

  async remove(instanceId: string, q: Queryable = this.db): Promise<boolean> {
    return (await q.run('DELETE FROM replicas WHERE instance_id = ?', [instanceId])).changes > 0;
  }
}
