/**
 * What stormd is asked to define for an instance: its identity (id, name, MAC, UUID, address) and a stack
 * (image layers, frozen writable layers, memory and CPUs), on the manager's bridge. Launch, every
 * lifecycle operation and the undo of one build their requests here.
 *
 * @example
 * const requests = new DomainRequests('br-storm');
 * await client.defineDomain(row.id, requests.build(identityOf(row), shapeOf(row, files)));
 */
import type { DefineDomainRequest } from '../../../stormd/protocol.js';
import { MgrErr } from '../errors.js';
import type { InstanceFile, InstanceRow } from './instance-store.js';

/** Who the domain belongs to. */
export interface InstanceIdentity {
  readonly id: string;
  readonly name: string;
  readonly mac: string;
  readonly uuid: string;
  /** Its reserved address on the appliance network: the NIC's traffic filter allows only that one. */
  readonly ip?: string | null;
}

/** A stack a domain is defined from: the appliance version's files and the frozen writable layers under the current one. */
export interface StackShape {
  readonly appliance: string;
  readonly version: string;
  readonly memoryMiB: number;
  readonly vcpus: number;
  readonly files: readonly InstanceFile[];
  readonly frozen: readonly string[];
}

export const identityOf = (row: InstanceIdentity): InstanceIdentity => ({
  id: row.id,
  name: row.name,
  mac: row.mac,
  uuid: row.uuid,
  ip: row.ip ?? null,
});

/** The stack an instance's row describes (its files given apart: they are rows of their own). */
export function shapeOf(row: InstanceRow, files: readonly InstanceFile[]): StackShape {
  return {
    appliance: row.appliance,
    version: row.version,
    memoryMiB: row.memory_mib,
    vcpus: row.vcpus,
    files,
    frozen: JSON.parse(row.frozen) as string[],
  };
}

export class DomainRequests {
  /** `bridge`: the host bridge the instances' NICs join; null: no NIC. */
  constructor(private readonly bridge: string | null) {}

  build(inst: InstanceIdentity, stack: StackShape): DefineDomainRequest {
    const common = {
      // The instance's own UUID: a redefinition must match the domain libvirt already knows.
      uuid: inst.uuid,
      memoryMiB: stack.memoryMiB,
      vcpus: stack.vcpus,
      nics: this.bridge ? [{ mac: inst.mac, bridge: this.bridge, ...(inst.ip ? { ip: inst.ip } : {}) }] : [],
      metadata: { instance: inst.id, name: inst.name, appliance: stack.appliance, version: stack.version },
    };
    // A traditional instance: one disk, its overlay chain; the host remembers the firmware it boots by.
    if (stack.files.some((f) => f.kind === 'image')) return { ...common, image: {}, layers: [] };
    const kernel = stack.files.find((f) => f.role === 'kernel');
    const initrd = stack.files.find((f) => f.role === 'initrd');
    if (!kernel || !initrd) throw MgrErr.MGR_ERR_VALIDATION(`${stack.appliance} ${stack.version} has no boot kernel and initrd`);
    return {
      // The instance's own UUID: a redefinition must match the domain libvirt already knows.
      uuid: inst.uuid,
      memoryMiB: stack.memoryMiB,
      vcpus: stack.vcpus,
      boot: { kernel: kernel.sha256, initrd: initrd.sha256 },
      layers: stack.files.filter((f) => f.role === 'layer').map((f) => f.sha256),
      nics: this.bridge ? [{ mac: inst.mac, bridge: this.bridge, ...(inst.ip ? { ip: inst.ip } : {}) }] : [],
      metadata: { instance: inst.id, name: inst.name, appliance: stack.appliance, version: stack.version },
      ...(stack.frozen.length ? { frozen: stack.frozen } : {}),
    };
  }
}
