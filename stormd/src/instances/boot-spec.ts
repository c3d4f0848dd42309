/**
 * Assembles the `DomainSpec` of a layered instance: the read-only layers (bottom → top) and the
 * instance layer on top become vda, vdb, …; the kernel command line names each disk's role in
 * `storm.layers=` exactly as the STORM initrd checks it against `/sys/block/<dev>/ro`.
 *
 * @example
 * const spec = layeredBootSpec({
 *   instanceId: 'i1', uuid, kernel: '/b/vmlinuz', initrd: '/b/initrd.img',
 *   layers: [{ path: '/l/tiny-os.squashfs', format: 'raw' }, { path: '/l/hello-web.squashfs', format: 'raw' }],
 *   instanceLayer: '/i/i1/instance.qcow2', memoryMiB: 256, vcpus: 1, consoleLog: '/i/i1/console.log', nics: [],
 * });
 * spec.name;          // 'storm-i1'
 * spec.boot?.cmdline; // 'console=ttyS0 storm.layers=vda:ro,vdb:ro,vdc:rw panic=-1 loglevel=4'
 */
import { StormdErr } from '../errors.js';
import type { DiskSpec, DomainSpec, NicSpec, VolumeDiskSpec } from '../hypervisor/driver.js';
import { diskTarget, MAX_DISKS } from '../hypervisor/spec-check.js';

/** A read-only layer image; squashfs layers are raw, a frozen writable layer is qcow2. */
export interface LayerImage {
  readonly path: string;
  readonly format: 'raw' | 'qcow2';
}

export interface LayeredBootInput {
  readonly instanceId: string;
  readonly uuid: string;
  readonly kernel: string;
  readonly initrd: string;
  /** Read-only layers, bottom (os) first: image layers, then the instance's frozen writable layers. */
  readonly layers: readonly LayerImage[];
  /** The instance's current writable qcow2 (see `instance-layer.ts`), always on top. */
  readonly instanceLayer: string;
  readonly memoryMiB: number;
  readonly vcpus: number;
  readonly consoleLog: string;
  readonly nics: readonly NicSpec[];
  /** Data volumes, after the stack (`storm.layers=` never names them). */
  readonly volumes?: readonly VolumeDiskSpec[];
  /** Extra kernel arguments after ours (for example `storm.debug`). */
  readonly extraCmdline?: readonly string[];
  readonly metadata?: Readonly<Record<string, string>>;
}

/**
 * Kernel arguments every layered instance gets besides `storm.layers=`: the serial console the
 * host logs; reboot at once on a panic rather than hang (libvirt restarts it: on_reboot=restart);
 * warnings and worse only, since every byte on the emulated serial line costs boot time.
 */
export const BASE_CMDLINE: readonly string[] = ['console=ttyS0', 'panic=-1', 'loglevel=4'];

const INSTANCE_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,57}$/;

/** The libvirt domain name of an instance: `storm-<instanceId>`. */
export function domainNameFor(instanceId: string): string {
  if (!INSTANCE_ID.test(instanceId))
    throw StormdErr.STORMD_ERR_BAD_INPUT(`instance id ${JSON.stringify(instanceId)} must be 1-58 of [A-Za-z0-9_.-]`);
  return `storm-${instanceId}`;
}

/** The `storm.layers=` value for disks in stack order: `vda:ro,vdb:ro,vdc:rw`. */
export function layersArg(disks: readonly DiskSpec[]): string {
  return disks.map((d, i) => `${diskTarget(i)}:${d.readonly ? 'ro' : 'rw'}`).join(',');
}

/** The kernel command line for a disk stack. */
export function layeredCmdline(disks: readonly DiskSpec[], extra: readonly string[] = []): string {
  const [console, ...rest] = BASE_CMDLINE;
  return [console, `storm.layers=${layersArg(disks)}`, ...rest, ...extra].join(' ');
}

/** The domain spec that boots `input`'s layer stack with the STORM initrd. */
export function layeredBootSpec(input: LayeredBootInput): DomainSpec {
  if (input.layers.length === 0) throw StormdErr.STORMD_ERR_BAD_INPUT('a layered instance needs at least an os layer');
  if (input.layers.length + 1 > MAX_DISKS) {
    throw StormdErr.STORMD_ERR_STACK_TOO_DEEP(`${input.layers.length} read-only layers + 1 writable, at most ${MAX_DISKS} disks (vda…vdz)`);
  }
  for (const arg of input.extraCmdline ?? []) {
    if (/\s/.test(arg) || arg.startsWith('storm.layers='))
      throw StormdErr.STORMD_ERR_BAD_INPUT(`extra kernel argument ${JSON.stringify(arg)}`);
  }
  const disks: DiskSpec[] = [
    ...input.layers.map((l): DiskSpec => ({ path: l.path, format: l.format, readonly: true })),
    { path: input.instanceLayer, format: 'qcow2', readonly: false },
  ];
  return {
    name: domainNameFor(input.instanceId),
    uuid: input.uuid,
    memoryMiB: input.memoryMiB,
    vcpus: input.vcpus,
    boot: { kernel: input.kernel, initrd: input.initrd, cmdline: layeredCmdline(disks, input.extraCmdline) },
    disks,
    ...(input.volumes?.length ? { volumes: input.volumes } : {}),
    nics: input.nics,
    consoleLog: input.consoleLog,
    metadata: { instance: input.instanceId, ...input.metadata },
  };
}
