/** `POST /api/v1/reconcile`: one reconcile pass now (concurrent callers share it), answering what it did. */
import Type, { type Static } from 'typebox';
import { List } from './common.js';

const Names = List(Type.String());

export const ReconcileReport = Type.Object({
  hostsChecked: Names,
  hostsUnreachable: Names,
  launchesFinished: Names,
  launchesUndone: Names,
  destroysFinished: Names,
  /** Lifecycle operations (checkpoint, rollback, upgrade, …) a crash interrupted, undone: `name: kind`. */
  operationsUndone: Names,
  orphansRemoved: Names,
  /** Domains of a host declared dead that answered again, removed (`host/instance`): never started. */
  staleRemoved: Names,
  /** Records whose domain vanished: marked `lost`, never dropped. */
  lost: Names,
  errors: Names,
});
export type ReconcileReport = Static<typeof ReconcileReport>;
