/** Checkpoints in sqlite: each a complete stack an instance can be rolled back to (Blutopia §3.4). */
import type { Database, Queryable } from '../db/database.js';
import type { InstanceFile } from '../instances/instance-store.js';

export interface CheckpointRow {
  readonly id: string;
  readonly instance_id: string;
  readonly seq: number;
  readonly reason: string;
  readonly appliance: string;
  readonly version: string;
  readonly channel_id: string | null;
  readonly files: string;
  readonly frozen: string;
  readonly params: string;
  readonly guest_spec: string;
  readonly created_at: string;
}

export interface CheckpointView {
  readonly id: string;
  readonly seq: number;
  readonly reason: string;
  readonly appliance: string;
  readonly version: string;
  /** The stack, bottom to top: image layers, then frozen writable layers. */
  readonly layers: readonly { readonly kind: string; readonly sha256?: string; readonly id?: string }[];
  readonly createdAt: string;
}

export function checkpointView(r: CheckpointRow): CheckpointView {
  const files = JSON.parse(r.files) as InstanceFile[];
  const frozen = JSON.parse(r.frozen) as string[];
  return {
    id: r.id,
    seq: r.seq,
    reason: r.reason,
    appliance: r.appliance,
    version: r.version,
    layers: [
      ...files.filter((x) => x.role === 'layer').map((x) => ({ kind: x.kind, sha256: x.sha256 })),
      ...frozen.map((id) => ({ kind: 'frozen', id })),
    ],
    createdAt: r.created_at,
  };
}

export class CheckpointStore {
  constructor(private readonly db: Database) {}

  list(instanceId: string): Promise<CheckpointRow[]> {
    return this.db.all<CheckpointRow>('SELECT * FROM checkpoints WHERE instance_id = ? ORDER BY seq', [instanceId]);
  }

  get(instanceId: string, id: string): Promise<CheckpointRow | undefined> {
    return this.db.get<CheckpointRow>('SELECT * FROM checkpoints WHERE instance_id = ? AND (id = ? OR CAST(seq AS TEXT) = ?)', [
      instanceId,
      id,
      id,
    ]);
  }

  /** Records a state of the instance (its files, `frozen`: its frozen layers and the one frozen now) as its next checkpoint. */
  async record(
    tx: Queryable,
    id: string,
    instanceId: string,
    at: {
      readonly appliance: string;
      readonly version: string;
      readonly channelId: string | null;
      readonly params: string;
      readonly guestSpec: string;
    },
    files: readonly InstanceFile[],
    frozen: readonly string[],
    reason: string,
  ): Promise<void> {
    const next = (await tx.get<{ n: number | null }>('SELECT MAX(seq) AS n FROM checkpoints WHERE instance_id = ?', [instanceId]))?.n ?? 0;
    await tx.run(
      'INSERT INTO checkpoints (id, instance_id, seq, reason, appliance, version, channel_id, files, frozen, params, guest_spec) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [
        id,
        instanceId,
        next + 1,
        reason,
        at.appliance,
        at.version,
        at.channelId,
        JSON.stringify(files),
        JSON.stringify(frozen),
        at.params,
        at.guestSpec,
      ],
    );
  }

  async remove(instanceId: string, id: string, q: Queryable = this.db): Promise<boolean> {
    return (await q.run('DELETE FROM checkpoints WHERE instance_id = ? AND id = ?', [instanceId, id])).changes > 0;
  }

  /** Every writable layer any checkpoint of the instance still needs. */
  async referencedLayers(instanceId: string): Promise<Set<string>> {
    const rows = await this.db.all<{ frozen: string }>('SELECT frozen FROM checkpoints WHERE instance_id = ?', [instanceId]);
    return new Set(rows.flatMap((r) => JSON.parse(r.frozen) as string[]));
  }
}
