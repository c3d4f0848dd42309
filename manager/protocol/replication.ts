/**
 * Wire types of replication: `PUT /api/v1/instances/:id/replica` (`{ to }`: replicate to that host,
 * copying what is frozen now; each checkpoint after it is copied too), `GET` the same path (the
 * replica as it stands; 404 without one), `DELETE` it (204: the copy removed, replication off).
 * docs/move.md, "Replication".
 *
 * @example
 * await api.put<ReplicaView>('/instances/web1/replica', { to: 'host-b' });
 * await api.put<ReplicaView>('/instances/web1/replica', { to: 'host-b', every: 3600 }); // and a checkpoint each hour
 */
import Type, { type Static } from 'typebox';
import { IsoTime, List, Nullable } from './common.js';

/** common/replica-interval.ts's MIN_REPLICA_EVERY_S (a door brings nothing along; replication-schedule.test.ts checks they agree). */
const MIN_REPLICA_EVERY_S = 10;

export const ReplicaBody = Type.Object(
  {
    to: Type.String({ minLength: 1, maxLength: 128 }),
    /** Seconds: the manager checkpoints the instance this often, so a restart from the replica loses at most that much. */
    every: Type.Optional(Type.Integer({ minimum: MIN_REPLICA_EVERY_S, maximum: 366 * 86_400 })),
  },
  { additionalProperties: false },
);
export type ReplicaBody = Static<typeof ReplicaBody>;

export const ReplicaView = Type.Object({
  /** The instance's name. */
  instance: Type.String(),
  /** The replica host's name. */
  host: Type.String(),
  /** The checkpoint the copy is as of; null before the instance's first checkpoint. */
  checkpoint: Nullable(Type.String()),
  /** The frozen writable layers the replica host holds (`w0`, …). */
  layers: List(Type.String()),
  bytes: Type.Integer(),
  replicatedAt: Nullable(IsoTime),
  /** Why the last copy failed (the next checkpoint tries again). */
  error: Nullable(Type.String()),
  /** Seconds between the checkpoints the manager takes; null: only those the administrator takes. */
  every: Nullable(Type.Integer()),
});
export type ReplicaView = Static<typeof ReplicaView>;
