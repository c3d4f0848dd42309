/**
 * The steps of a cold move that are a move's own (the rest are `host-steps.ts`' define, start and
 * stop-for-change, and staging): `copy` (the instance's files relayed from the source's stormd to
 * the target's, each checked by sha256 where it lands; undo: the instance goes from the target),
 * `switchHost` (the record names the target; undo: the source again), `removeSource` (the source's
 * domain and folder go; no undo: it comes after the point of no return). An undo never touches the
 * host the record names, so no order of crash and restart can remove the only copy.
 *
 * @example
 * const steps = moveSteps(hosts, store);
 * await op.run(steps.copy, { instanceId, from, to });
 * await op.commit(steps.switchHost, { instanceId, from, to });
 * await op.run(steps.removeSource, { instanceId, from, to });
 */
import type { HostRegistry } from '../hosts/host-registry.js';
import type { Step, TxStep } from '../operations/step.js';
import type { InstanceStore } from './instance-store.js';

export interface MoveIntent {
  readonly instanceId: string;
  /** The host it leaves. */
  readonly from: string;
  /** The host it goes to. */
  readonly to: string;
}

export interface MoveSteps {
  /** Every file of the instance's own state copied to the target and verified there; its result is how many bytes moved. */
  readonly copy: Step<MoveIntent, number, { bytes: number }>;
  /** The record's host is the target: the point of no return. */
  readonly switchHost: TxStep<MoveIntent>;
  /** The source's domain and folder removed (idempotent). */
  readonly removeSource: Step<MoveIntent>;
}

export function moveSteps(hosts: HostRegistry, store: InstanceStore): MoveSteps {
  /** Refuses to remove the instance from the host its record names: that copy is the instance. */
  const notItsHost = async (instanceId: string, hostId: string, what: string) => {
    const row = await store.get(instanceId);
    if (row?.host_id === hostId) throw new Error(`refusing to ${what}: the record says the instance lives on ${hostId}`);
  };
  return {
    copy: {
      name: 'move.copy',
      run: async ({ instanceId, from, to }) => {
        const [source, target] = [await hosts.client(from), await hosts.client(to)];
        let bytes = 0;
        // One file at a time, streamed: the manager holds a chunk, never a whole layer.
        for (const file of (await source.instanceFiles(instanceId)).files) {
          await target.receiveInstanceFile(instanceId, file, await source.openInstanceFile(instanceId, file.path));
          bytes += file.size;
        }
        return bytes;
      },
      keep: (bytes) => ({ bytes }),
      undo: async ({ instanceId, to }) => {
        await notItsHost(instanceId, to, `remove ${instanceId}'s copy from the target`);
        await (await hosts.client(to)).removeInstance(instanceId);
      },
    },
    switchHost: {
      name: 'move.switch-host',
      runInTx: async (tx, { instanceId, to }, _input, scope) => {
        await store.setHost(instanceId, to, tx);
        await scope.onHost(to);
      },
      undo: async ({ instanceId, from }) => store.setHost(instanceId, from),
    },
    removeSource: {
      name: 'move.remove-source',
      run: async ({ instanceId, from }) => {
        await notItsHost(instanceId, from, `remove ${instanceId} from the host it left`);
        await (await hosts.client(from)).removeInstance(instanceId);
      },
    },
  };
}
