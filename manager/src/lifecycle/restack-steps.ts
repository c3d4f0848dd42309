/**
 * The lifecycle's own steps besides the host's (`instances/host-steps.ts`): `commit` records the
 * checkpoint and the instance's new stack in one transaction (undo: the checkpoint goes and the
 * record's stack is the previous one again, for an operation that goes on after it: package);
 * `merge` makes flatten's merged layer (undo: removed); `flattened` records the merged stack.
 *
 * @example
 * await op.finish(steps.commit, { instanceId, checkpointId, reason, checkpointFrozen, before, after, state: 'running' });
 */
import type { Database } from '../db/database.js';
import { hostCode } from '../hosts/host-client.js';
import type { HostRegistry } from '../hosts/host-registry.js';
import type { OnHost } from '../instances/host-steps.js';
import type { InstanceStore, RecordedStack } from '../instances/instance-store.js';
import type { Step, TxStep } from '../operations/step.js';
import type { CheckpointStore } from './checkpoint-store.js';

export type { RecordedStack } from '../instances/instance-store.js';

export interface CommitIntent {
  readonly instanceId: string;
  readonly checkpointId: string;
  readonly reason: string;
  /** The checkpoint's frozen layers: the previous stack's, and its writable layer frozen now. */
  readonly checkpointFrozen: readonly string[];
  readonly before: RecordedStack;
  readonly after: RecordedStack;
  readonly state: 'running' | 'stopped';
}

export interface MergeIntent extends OnHost {
  readonly layers: readonly string[];
  /** Every layer a stack or checkpoint used before the merge: an undo cut short removes any other frozen one. */
  readonly keep: readonly string[];
}

export interface RestackSteps {
  readonly commit: TxStep<CommitIntent>;
  readonly merge: Step<MergeIntent, string, { layer: string }>;
  readonly flattened: TxStep<{ readonly instanceId: string; readonly frozen: readonly string[]; readonly state: 'running' | 'stopped' }>;
}

export function restackSteps(db: Database, hosts: HostRegistry, store: InstanceStore, checkpoints: CheckpointStore): RestackSteps {
  return {
    commit: {
      name: 'instance.restack',
      runInTx: async (tx, c) => {
        await checkpoints.record(tx, c.checkpointId, c.instanceId, c.before, c.before.files, c.checkpointFrozen, c.reason);
        await store.writeStack(tx, c.instanceId, c.after, c.state);
      },
      undo: (c) =>
        db.transaction(async (tx) => {
          await checkpoints.remove(c.instanceId, c.checkpointId, tx);
          await store.writeStack(tx, c.instanceId, c.before, 'stopped');
        }),
    },
    merge: {
      name: 'host.merge-layers',
      run: async ({ hostId, instanceId, layers }) => (await (await hosts.client(hostId)).mergeLayers(instanceId, { layers })).id,
      keep: (layer) => ({ layer }),
      undo: async ({ hostId, instanceId, keep }, kept) => {
        const client = await hosts.client(hostId);
        try {
          const listed = (await client.writableLayers(instanceId)).layers;
          // Cut short, the merged layer's id is unknown: it is the frozen layer no stack or checkpoint used.
          const strays = kept ? [kept.layer] : listed.filter((l) => !l.current && !keep.includes(l.id)).map((l) => l.id);
          for (const id of strays) await client.removeWritableLayer(instanceId, id);
        } catch (err) {
          if (hostCode(err) !== 'STORMD_ERR_INSTANCE_NOT_FOUND') throw err;
        }
      },
    },
    flattened: {
      name: 'instance.flattened',
      runInTx: (tx, { instanceId, frozen, state }) => store.setFrozen(tx, instanceId, frozen, state),
    },
  };
}
