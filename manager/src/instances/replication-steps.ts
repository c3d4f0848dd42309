/**
 * The replica restart's own step (the rest are `host-steps.ts`' writable layer, define and start,
 * and staging): `switchHost`, the record names the replica host and the replica is no more (its copy
 * is now the instance), in the transaction that closes the operation, so it happens exactly when
 * the operation is done (its undo, the dead host again, never has to run after a finish).
 *
 * @example
 * await op.finish(steps.switchHost, { instanceId, from: deadHostId, to: replicaHostId });
 */
import type { TxStep } from '../operations/step.js';
import type { InstanceStore } from './instance-store.js';
import type { ReplicaStore } from './replication-store.js';

export interface ReplicaSwitchIntent {
  readonly instanceId: string;
  /** The dead host. */
  readonly from: string;
  /** The replica host, where it now runs. */
  readonly to: string;
}

export interface ReplicationSteps {
  readonly switchHost: TxStep<ReplicaSwitchIntent>;
}

export function replicationSteps(store: InstanceStore, replicas: ReplicaStore): ReplicationSteps {
  return {
    switchHost: {
      name: 'replication.switch-host',
      runInTx: async (tx, { instanceId, to }, _input, scope) => {
        await store.setHost(instanceId, to, tx);
        await replicas.remove(instanceId, tx);
        await scope.onHost(to);
      },
      undo: async ({ instanceId, from }) => store.setHost(instanceId, from),
    },
  };
}
