/**
 * How each lifecycle operation changes an instance's image layers (the read-only squashfs layers
 * and boot files; its writable layers are handled by the host): pure functions, tested on their own.
 *
 * @example
 * upgradeFiles(current, target.files); // target's os and appliance layers, the instance's own deployment layers kept
 */
import type { InstanceFile } from '../instances/instance-store.js';

/** Positions renumbered in stack order. */
const renumber = (files: readonly Omit<InstanceFile, 'position'>[]): InstanceFile[] => files.map((f, position) => ({ ...f, position }));

/**
 * Upgrade: the target version's files (os, boot files, appliance layers, and its own deployment
 * layers) with the deployment layers the instance carries that the target does not, on top, in
 * their order: a site's customization survives the upgrade, as Blutopia keeps its CoW layers.
 */
export function upgradeFiles(
  current: readonly InstanceFile[],
  target: readonly InstanceFile[],
  currentVersionFiles: readonly InstanceFile[],
): InstanceFile[] {
  const targetShas = new Set(target.map((f) => f.sha256));
  const ownedByVersion = new Set(currentVersionFiles.map((f) => f.sha256));
  const kept = current.filter(
    (f) => f.role === 'layer' && f.kind === 'deployment' && !targetShas.has(f.sha256) && !ownedByVersion.has(f.sha256),
  );
  return renumber([...target, ...kept]);
}

/** The read-only disks a stack has: image layers plus frozen writable layers (boot files are not disks). */
export function stackDepth(files: readonly InstanceFile[], frozen: readonly string[]): number {
  return files.filter((f) => f.role === 'layer').length + frozen.length + 1;
}

/** Disks a domain may have (vda…vdz), and so the deepest stack; the writable layer is one of them. */
export const MAX_STACK_DEPTH = 26;

/** Guest paths that make an instance itself: left out of packages, copied into a reprovisioned stack. */
export const IDENTITY_PATHS: readonly string[] = [
  '/etc/storm/token',
  '/etc/storm/instance.json',
  '/etc/storm/manager.json',
  '/etc/storm/ldap.json',
  '/etc/storm/ca.pem',
  '/etc/storm/config.env',
  '/etc/hostname',
  '/var/lib/storm/boot-stamp',
];

/**
 * What makes a traditional instance itself, scrubbed from its packaged image: the files STORM's
 * cloud-init seed wrote (/etc/storm), cloud-init's record of the instance it ran for (so the
 * package's instances run it afresh), the SSH host keys (each instance makes its own) and the
 * identity paths above. stormd also empties /etc/machine-id. A last segment ending in `*` is a prefix.
 */
export const IMAGE_IDENTITY_PATHS: readonly string[] = [
  ...new Set([...IDENTITY_PATHS, '/etc/storm', '/var/lib/cloud', '/etc/ssh/ssh_host_*']),
];

/** What a reprovisioned stack copies from the one it replaces: identity, not what the guest built. */
export const COPIED_ON_REPROVISION: readonly string[] = [
  '/etc/storm/token',
  '/etc/storm/instance.json',
  '/etc/storm/manager.json',
  '/etc/storm/ldap.json',
  '/etc/storm/ca.pem',
];
