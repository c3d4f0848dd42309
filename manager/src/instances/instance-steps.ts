/**
 * The journal steps of an instance's record: `reserve` (the row a launch starts from: name, MAC,
 * the host placement chooses in the same transaction, so launches at once never fill the same room,
 * token hash, stack; undo: the row goes, and with it its files and records), `running` (a launch's
 * last step), `destroying` and `forget` (destroy's first and last).
 *
 * @example
 * const hostId = await op.commit(instanceSteps.reserve, { instanceId: id, name: 'web1' }, { row, files, place: { memoryMiB: 128 } });
 */
import type { Placement, PlacementRequest } from '../hosts/placement.js';
import type { TxStep } from '../operations/step.js';
import type { InstanceFile, InstanceStore, NewInstance } from './instance-store.js';

export interface InstanceRef {
  readonly instanceId: string;
}

export interface ReserveInput {
  /** The record but its host, which placement chooses. */
  readonly row: Omit<NewInstance, 'host_id'>;
  readonly files: readonly InstanceFile[];
  readonly place: PlacementRequest;
}

export interface InstanceSteps {
  /** The record, on the host placement chose (its id the result, and the operation's host). */
  readonly reserve: TxStep<InstanceRef & { readonly name: string }, string, undefined, ReserveInput>;
  readonly running: TxStep<InstanceRef>;
  readonly destroying: TxStep<InstanceRef>;
  readonly forget: TxStep<InstanceRef>;
}

export function instanceSteps(store: InstanceStore, placement: Pick<Placement, 'choose'>): InstanceSteps {
  return {
    reserve: {
      name: 'instance.reserve',
      runInTx: async (tx, _intent, { row, files, place }, scope) => {
        // In the transaction: every launch reserved before this one counts.
        const host = await placement.choose(place, tx);
        await store.insert(tx, { ...row, host_id: host.id }, files);
        await scope.onHost(host.id);
        return host.id;
      },
      undo: ({ instanceId }) => store.remove(instanceId),
    },
    running: { name: 'instance.running', runInTx: (tx, { instanceId }) => store.mark(tx, instanceId, 'running') },
    destroying: { name: 'instance.destroying', runInTx: (tx, { instanceId }) => store.mark(tx, instanceId, 'destroying') },
    forget: { name: 'instance.forget', runInTx: (tx, { instanceId }) => store.remove(instanceId, tx) },
  };
}
