/**
 * The steps of the volume operations (docs/development.md "Multi-step operations"): the row, the
 * host's file, the attachment on each side. Every undo is safe to run twice and safe when its step
 * never acted: the host's calls are idempotent, and the row's undo names the row it made.
 *
 * @example
 * await journal.perform({ kind: 'volume-create', hostId, subject: { volume: name } }, async (op) => {
 *   await op.commit(steps.record, { name, hostId, sizeMiB, serial });
 *   await op.run(steps.createOnHost, { name, hostId, sizeMiB });
 * });
 */
import type { HostRegistry } from '../hosts/host-registry.js';
import type { Step, TxStep } from '../operations/step.js';
import { MgrErr } from '../errors.js';
import type { VolumeStore } from './volume-store.js';

export interface VolumeIntent {
  readonly name: string;
  readonly hostId: string;
}

export interface AttachIntent extends VolumeIntent {
  readonly instanceId: string;
  readonly serial: string;
}

export interface VolumeSteps {
  /** The row, which claims the name; undo: the row goes. */
  readonly record: TxStep<VolumeIntent & { sizeMiB: number; serial: string }>;
  /** The file on its host; undo: the file goes (refused by the host while attached). */
  readonly createOnHost: Step<VolumeIntent & { sizeMiB: number }>;
  /** The file goes; no undo (its data is gone). */
  readonly removeOnHost: Step<VolumeIntent>;
  /** The row goes, as the operation's last step. */
  readonly forget: TxStep<VolumeIntent>;
  /** The row names the instance; refused when it names one already. Undo: it names none. */
  readonly attachRecord: TxStep<AttachIntent>;
  /** The host attaches it (hot-plug while running); undo: the host detaches it. */
  readonly attachOnHost: Step<AttachIntent, boolean, boolean>;
  /** The host detaches it (hot-unplug while running); undo: the host attaches it again. */
  readonly detachOnHost: Step<AttachIntent>;
  /** The row names no instance, as the operation's last step. */
  readonly detachRecord: TxStep<AttachIntent>;
}

export function volumeSteps(store: VolumeStore, hosts: HostRegistry): VolumeSteps {
  const client = (hostId: string) => hosts.client(hostId);
  return {
    record: {
      name: 'volume.record',
      runInTx: async (tx, v) => {
        if (await store.get(v.name, tx)) throw MgrErr.MGR_ERR_VOLUME_EXISTS(v.name);
        await store.insert(tx, v);
      },
      undo: async ({ name, hostId }) => {
        await store.db.run('DELETE FROM volumes WHERE name = ? AND host_id = ? AND instance_id IS NULL', [name, hostId]);
      },
    },
    createOnHost: {
      name: 'volume.host-create',
      run: async ({ name, hostId, sizeMiB }) => void (await (await client(hostId)).createVolume(name, { sizeMiB })),
      undo: async ({ name, hostId }) => (await client(hostId)).removeVolume(name),
    },
    removeOnHost: {
      name: 'volume.host-remove',
      run: async ({ name, hostId }) => (await client(hostId)).removeVolume(name),
    },
    forget: {
      name: 'volume.forget',
      runInTx: (tx, { name }) => store.remove(tx, name),
    },
    attachRecord: {
      name: 'volume.attach-record',
      runInTx: async (tx, { name, instanceId }) => {
        if (!(await store.attach(tx, name, instanceId))) throw MgrErr.MGR_ERR_VOLUME_ATTACHED(`${name} is attached already`);
      },
      undo: ({ name, instanceId }) => store.detach(store.db, name, instanceId),
    },
    attachOnHost: {
      name: 'volume.host-attach',
      run: async ({ name, hostId, instanceId, serial }) => (await (await client(hostId)).attachVolume(instanceId, name, { serial })).live,
      keep: (live) => live,
      undo: async ({ name, hostId, instanceId }) => (await client(hostId)).detachVolume(instanceId, name),
    },
    detachOnHost: {
      name: 'volume.host-detach',
      run: async ({ name, hostId, instanceId }) => (await client(hostId)).detachVolume(instanceId, name),
      undo: async ({ name, hostId, instanceId, serial }) => void (await (await client(hostId)).attachVolume(instanceId, name, { serial })),
    },
    detachRecord: {
      name: 'volume.detach-record',
      runInTx: (tx, { name, instanceId }) => store.detach(tx, name, instanceId),
    },
  };
}
