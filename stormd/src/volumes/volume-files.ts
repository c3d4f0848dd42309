/**
 * Volume files: `<data>/volumes/<name>.qcow2`, made ext4 on the whole disk while they are fresh
 * blank files the host created (nothing a guest wrote is ever parsed on the host), so the guest
 * only mounts them. Root's, group the qemu group, `DISK_MODE` like every disk QEMU writes.
 *
 * @example
 * await createVolumeFile(dir, 'pgdata', 1024);
 * await volumeFiles(dir); // [{ name: 'pgdata', path: '/var/lib/stormd/volumes/pgdata.qcow2' }]
 */
import { chmod, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { StormdErr } from '../errors.js';
import { ext4Qcow2FromTree } from '../instances/instance-layer.js';

/** Volume names: a single path segment, short enough for an ext4 label once cut to 16. */
export const VOLUME_NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;
export const MIN_VOLUME_MIB = 8;
/** 16 TiB: far past any test, below qcow2's and ext4's limits. */
export const MAX_VOLUME_MIB = 16 * 1024 * 1024;
const FILE = /^([a-z0-9][a-z0-9-]{0,31})\.qcow2$/;

export function checkVolumeName(name: string): void {
  if (!VOLUME_NAME.test(name))
    throw StormdErr.STORMD_ERR_BAD_INPUT(`volume name ${JSON.stringify(name)} must be 1-32 of [a-z0-9-], not starting with -`);
}

export function volumePath(dir: string, name: string): string {
  checkVolumeName(name);
  return join(dir, `${name}.qcow2`);
}

/** Every volume file in `dir`, by name. */
export async function volumeFiles(dir: string): Promise<{ name: string; path: string }[]> {
  const out: { name: string; path: string }[] = [];
  for (const entry of (await readdir(dir).catch(() => [] as string[])).sort()) {
    const m = FILE.exec(entry);
    if (m?.[1]) out.push({ name: m[1], path: join(dir, entry) });
  }
  return out;
}

/** Creates an empty ext4 volume of `sizeMiB` (sparse); 409 when the file exists. */
export async function createVolumeFile(dir: string, name: string, sizeMiB: number): Promise<string> {
  const path = volumePath(dir, name);
  if (!Number.isInteger(sizeMiB) || sizeMiB < MIN_VOLUME_MIB || sizeMiB > MAX_VOLUME_MIB)
    throw StormdErr.STORMD_ERR_BAD_INPUT(`volume size must be an integer in ${MIN_VOLUME_MIB}..${MAX_VOLUME_MIB} MiB`);
  if (await exists(path)) throw StormdErr.STORMD_ERR_VOLUME_EXISTS(name);
  // An empty root folder: mkfs.ext4 -d gives the filesystem's root its mode.
  const empty = await mkdtemp(join(dir, '.empty-'));
  try {
    await chmod(empty, 0o755);
    await ext4Qcow2FromTree(empty, path, { sizeMiB, label: `storm-${name}`.slice(0, 16) }).catch((err: unknown) => {
      if (StormdErr.STORMD_ERR_LAYER_EXISTS.is(err)) throw StormdErr.STORMD_ERR_VOLUME_EXISTS(name);
      throw err;
    });
  } finally {
    await rm(empty, { recursive: true, force: true });
  }
  return path;
}

export async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
