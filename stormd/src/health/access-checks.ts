/**
 * The two checks made as libvirt's qemu user, in one child process (`open-as.ts`):
 * `store-access` passes through `layers/` and `instances/` (search permission, as QEMU must to
 * reach any disk) and opens two probe files with a layer's and a disk's group and mode, kept in
 * their own folder `probe/` (the same ownership and mode as `instances/`) where no scan of layers
 * or instances sees them; `kvm` opens /dev/kvm read-write as that user when root can.
 *
 * @example
 * await ensureProbeFiles(dataDir);
 * const [store, kvm] = await accessChecks({ dataDir, qemu, uri: 'qemu:///system' });
 */
import { closeSync, constants, openSync } from 'node:fs';
import { access, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { HealthCheck } from '../../protocol.js';
import { runTool } from '../exec.js';
import { DISK_MODE, LAYER_FILE_MODE, placeInStore, PROBE_DIR, STORE_DIR_MODE } from '../store/store-access.js';
import { type OpenResult, openAs } from './open-as.js';
import type { QemuUser } from './qemu-user.js';

export const KVM_DEVICE = '/dev/kvm';
/** Where a stormd before `probe/` kept its probe files: removed, since scans of those folders saw them. */
const LEGACY_PROBES = ['layers/.qemu-probe', 'instances/.qemu-probe', 'instances/.qemu-probe.log'];

/** The probe files: one with a read-only layer's mode, one with a disk's (opened read-write). */
export function probeFiles(dataDir: string): { path: string; mode: number; write: boolean }[] {
  return [
    { path: join(dataDir, PROBE_DIR, 'layer'), mode: LAYER_FILE_MODE, write: false },
    { path: join(dataDir, PROBE_DIR, 'disk'), mode: DISK_MODE, write: true },
  ];
}

/** The store folders QEMU passes through to every disk. */
export function storeFolders(dataDir: string): string[] {
  return [join(dataDir, 'layers'), join(dataDir, 'instances')];
}

/** Makes the probe folder and files (again, when someone removed them) with the store's group. */
export async function ensureProbeFiles(dataDir: string): Promise<void> {
  const dir = join(dataDir, PROBE_DIR);
  await mkdir(dir, { recursive: true, mode: STORE_DIR_MODE });
  await placeInStore(dir, STORE_DIR_MODE);
  for (const f of probeFiles(dataDir)) {
    if (
      await access(f.path).then(
        () => true,
        () => false,
      )
    )
      continue;
    await writeFile(f.path, '', { mode: f.mode });
    await placeInStore(f.path, f.mode);
  }
  for (const old of LEGACY_PROBES) await rm(join(dataDir, old), { force: true });
}

/** True for URIs under which libvirt runs QEMU as its qemu user: `qemu[+transport]:///system`. */
export function runsSystemQemu(uri: string): boolean {
  try {
    const u = new URL(uri);
    return /^qemu(\+\w+)?:$/.test(u.protocol) && u.pathname === '/system';
  } catch {
    return false;
  }
}

export interface AccessCheckOptions {
  readonly dataDir: string;
  readonly qemu: QemuUser | undefined;
  readonly uri: string;
  readonly kvmDevice?: string;
  /** stormd's uid; acting as another user needs root. */
  readonly uid?: number;
}

/** `[store-access, kvm]`. */
export async function accessChecks(opts: AccessCheckOptions): Promise<[HealthCheck, HealthCheck]> {
  const device = opts.kvmDevice ?? KVM_DEVICE;
  const skip = (why: string): [HealthCheck, HealthCheck] => [
    { name: 'store-access', status: 'skip', message: why },
    { name: 'kvm', status: 'skip', message: why },
  ];
  if (!runsSystemQemu(opts.uri)) return skip(`${opts.uri} runs no QEMU as libvirt's qemu user`);
  const { qemu } = opts;
  if (!qemu) return skip("this machine has no libvirt qemu account (qemu.conf's user, else libvirt-qemu): nothing runs QEMU here");
  if ((opts.uid ?? process.getuid?.()) !== 0)
    return skip(
      `stormd is not root, so it cannot act as ${qemu.user} to check; QEMU must be able to open files under ${opts.dataDir} and ${device}`,
    );
  await ensureProbeFiles(opts.dataDir);
  const targets = [
    ...storeFolders(opts.dataDir).map((path) => ({ path, write: false, traverse: true })),
    ...probeFiles(opts.dataDir).map((f) => ({ path: f.path, write: f.write })),
  ];
  const kvmPresent = rootOpens(device);
  const results = await openAs(qemu, [...targets, ...(kvmPresent ? [{ path: device, write: true }] : [])]);
  const who = `libvirt's qemu user ${qemu.user} (uid ${qemu.uid})`;
  const store = await storeCheck(results.slice(0, targets.length), who, opts.dataDir);
  const kvm = kvmPresent
    ? await kvmCheck(results[targets.length]!, who, device, qemu)
    : { name: 'kvm', status: 'skip' as const, message: `${device} is absent or root cannot open it: guests run without KVM (TCG, slower)` };
  return [store, kvm];
}

async function storeCheck(results: readonly OpenResult[], who: string, dataDir: string): Promise<HealthCheck> {
  const failed = results.find((r) => !r.ok);
  if (!failed)
    return {
      name: 'store-access',
      status: 'ok',
      message: `${who} passes ${dataDir}/layers and ${dataDir}/instances and opens files there`,
    };
  if (failed.blockedAt) {
    const inside = failed.blockedAt === dataDir || failed.blockedAt.startsWith(`${dataDir}/`);
    return {
      name: 'store-access',
      status: 'fail',
      message: `${who} cannot reach ${failed.path}: it cannot pass ${failed.blockedAt} (${await describe(failed.blockedAt)}), so QEMU cannot open any disk of this host`,
      fix: inside
        ? 'restart stormd: at start it gives its folders root:<qemu group> 0710 (docs/hosts.md)'
        : `let it through: chmod o+x ${failed.blockedAt} (it lists nothing that way), or run stormd with --data outside private folders, e.g. /var/lib/stormd`,
    };
  }
  return {
    name: 'store-access',
    status: 'fail',
    message: `${who} cannot open ${failed.path} (${failed.code ?? 'refused'}; ${await describe(failed.path)}), so QEMU cannot open the disks stormd makes the same way`,
    fix: `restart stormd (it sets the store's modes at start), or give the store back its group and modes: see docs/hosts.md`,
  };
}

async function kvmCheck(result: OpenResult, who: string, device: string, qemu: QemuUser): Promise<HealthCheck> {
  if (result.ok) return { name: 'kvm', status: 'ok', message: `${who} opens ${device} (${await describe(device)})` };
  return {
    name: 'kvm',
    status: 'fail',
    message: `KVM is present but ${who} cannot open ${device} (${await describe(device)}): libvirt then probes QEMU again on every define, tens of seconds each`,
    fix: `give ${device} Debian's ownership and mode, as its udev rule does: chgrp kvm ${device} && chmod 0660 ${device}; ${qemu.user} must be in group kvm (id ${qemu.user})`,
  };
}

function rootOpens(device: string): boolean {
  try {
    closeSync(openSync(device, constants.O_RDWR));
    return true;
  } catch {
    return false;
  }
}

/** `drwx------ root:root`: what an administrator compares with what is needed. */
/** `crw-rw---- root:kvm`: a path's mode and owners, for a check's message. */
export async function describe(path: string): Promise<string> {
  try {
    return (await runTool('stat', ['-c', '%A %U:%G', '--', path])).stdout.toString().trim();
  } catch {
    return 'cannot stat it';
  }
}
