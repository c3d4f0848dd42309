/**
 * The `DomainSpec` of a traditional instance: no kernel or initrd; firmware (BIOS, or UEFI)
 * boots vda, the instance's current overlay, whose qcow2 backing chain (frozen overlays, then the
 * image) QEMU follows with every format stated in the headers. The cloud-init seed is vdb, read-only.
 *
 * @example
 * const spec = imageBootSpec({ instanceId: 'i1', uuid, disk: '/i/i1/writable/w0.qcow2', seed: '/i/i1/seed.iso',
 *   firmware: 'bios', memoryMiB: 512, vcpus: 1, consoleLog: '/i/i1/console.log', nics: [] });
 * spec.boot; // undefined
 */
import type { DiskSpec, DomainSpec, NicSpec, VolumeDiskSpec } from '../hypervisor/driver.js';
import { domainNameFor } from './boot-spec.js';

/** A UEFI instance's variable store, in its folder. */
export const UEFI_VARS_FILE = 'uefi-vars.fd';

export interface ImageBootInput {
  readonly instanceId: string;
  readonly uuid: string;
  /** The current overlay (qcow2). */
  readonly disk: string;
  /** The NoCloud seed ISO. */
  readonly seed?: string;
  readonly firmware: 'bios' | 'uefi';
  /** With UEFI: where the instance's variable store lives (in its folder). */
  readonly nvram?: string;
  readonly memoryMiB: number;
  readonly vcpus: number;
  readonly consoleLog: string;
  readonly nics: readonly NicSpec[];
  /** Data volumes, after the overlay and the seed. */
  readonly volumes?: readonly VolumeDiskSpec[];
  readonly metadata?: Readonly<Record<string, string>>;
}

export function imageBootSpec(input: ImageBootInput): DomainSpec {
  const disks: DiskSpec[] = [{ path: input.disk, format: 'qcow2', readonly: false }];
  if (input.seed) disks.push({ path: input.seed, format: 'raw', readonly: true });
  return {
    name: domainNameFor(input.instanceId),
    uuid: input.uuid,
    memoryMiB: input.memoryMiB,
    vcpus: input.vcpus,
    ...(input.firmware === 'uefi' ? { firmware: 'uefi' as const, ...(input.nvram ? { nvram: input.nvram } : {}) } : {}),
    disks,
    ...(input.volumes?.length ? { volumes: input.volumes } : {}),
    nics: input.nics,
    consoleLog: input.consoleLog,
    metadata: { instance: input.instanceId, kind: 'image', ...input.metadata },
  };
}
