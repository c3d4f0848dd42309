/**
 * The journal steps a traditional instance's launch adds: `image.record` (its firmware, disk size
 * and SSH keys beside the record; undo: the row goes) and `host.image-disk` (the overlay on the
 * staged image and the cloud-init seed; undo: the instance goes from the host). The seed holds the
 * guest's token, so it is the step's input, never its intent.
 *
 * @example
 * await op.commit(steps.record, { instanceId }, { firmware: 'bios', diskMiB: 2048, sshKeys });
 * await op.run(steps.disk, { hostId, instanceId }, { name, image, format, sizeMiB, seed });
 */
import type { CreateImageDiskRequest } from '../../../stormd/protocol.js';
import type { HostRegistry } from '../hosts/host-registry.js';
import type { Step, TxStep } from '../operations/step.js';
import type { ImageInstance, ImageInstanceStore } from './image-instance-store.js';

export interface ImageSteps {
  readonly record: TxStep<{ readonly instanceId: string }, void, undefined, ImageInstance>;
  readonly disk: Step<{ readonly hostId: string; readonly instanceId: string }, void, undefined, CreateImageDiskRequest>;
}

export function imageSteps(hosts: HostRegistry, store: ImageInstanceStore): ImageSteps {
  return {
    record: {
      name: 'image.record',
      runInTx: (tx, { instanceId }, v) => store.insert(tx, instanceId, v),
      undo: ({ instanceId }) => store.remove(instanceId),
    },
    disk: {
      name: 'host.image-disk',
      run: async ({ hostId, instanceId }, req) => void (await (await hosts.client(hostId)).createImageDisk(instanceId, req)),
      undo: async ({ hostId, instanceId }) => (await hosts.client(hostId)).removeInstance(instanceId),
    },
  };
}
