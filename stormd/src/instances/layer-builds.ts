/**
 * What stormd builds from an instance's writable layers, both from the same merged tree
 * (`overlay-merge.ts`) of the layers mounted read-only (`layer-mount.ts`):
 *
 * - a merged layer: ext4 in a qcow2 with the merged tree as `upper/` (and an empty `work/`), made
 *   by `mkfs.ext4 -d`, so nothing is mounted read-write and whiteouts and xattrs come through;
 * - a package: a reproducible squashfs of the merged tree (times fixed, entries sorted, owners,
 *   devices and xattrs kept), minus the excluded guest paths, stored under its sha256.
 *
 * Scratch lives in `workDir` (made by the caller, removed by the caller).
 *
 * @example
 * await buildMergedLayer([w0, w1], workDir, '/d/instances/i1/writable/w3.merged.qcow2');
 * await buildPackage([w0, w1, w2], workDir, '/d/instances/i1/packages', ['/etc/storm/token']); // { sha256, size }
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, lstat, mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { PackageResponse } from '../../protocol.js';
import { runTool } from '../exec.js';
import { fsyncPath } from '../fsync.js';
import { PRIVATE_DIR_MODE, SECRET_MODE } from '../store/store-access.js';
import { ext4Qcow2FromTree } from './instance-layer.js';
import { withMountedLayers } from './layer-mount.js';
import { mergeUppers } from './overlay-merge.js';
import { excludeGuestPaths, treeUsage } from './stage-tree.js';

const MIB = 1024 * 1024;
/** A merged layer is never written, so it needs only room for its tree: one inode per 8 KiB is enough. */
const MERGED_BYTES_PER_INODE = 8192;
const SQUASHFS_TIMEOUT_MS = 60 * 60_000;

/** mksquashfs flags of a package: the recipe layers' (`appliances/src/builder/finalize.ts`) at epoch 0. */
export const PACKAGE_SQUASHFS_OPTIONS: readonly string[] = [
  '-noappend',
  '-reproducible',
  '-mkfs-time',
  '0',
  '-all-time',
  '0',
  '-comp',
  'zstd',
  '-quiet',
  '-no-progress',
];

/** Merges `sources` (qcow2 writable layers, bottom first) into a new frozen layer at `out`. */
export async function buildMergedLayer(sources: readonly string[], workDir: string, out: string): Promise<void> {
  const image = join(workDir, 'image');
  await mergeSources(sources, workDir, join(image, 'upper'));
  await mkdir(join(image, 'work'), { mode: 0o755 });
  await chmod(image, 0o755); // becomes the ext4 root's mode
  const usage = await treeUsage(image);
  // Twice the data plus a block and an inode per entry: mkfs.ext4 -d fails rather than truncate, so err large (it is sparse).
  const sizeMiB = Math.max(32, Math.ceil((2 * usage.bytes + MERGED_BYTES_PER_INODE * usage.entries) / MIB) + 32);
  await ext4Qcow2FromTree(image, out, { sizeMiB, label: 'storm-merged', bytesPerInode: MERGED_BYTES_PER_INODE });
}

/** Merges `sources` into a squashfs package in `outDir` named `<sha256>.squashfs`. */
export async function buildPackage(
  sources: readonly string[],
  workDir: string,
  outDir: string,
  exclude: readonly string[],
): Promise<PackageResponse> {
  const stage = join(workDir, 'package');
  await mergeSources(sources, workDir, stage);
  await excludeGuestPaths(stage, exclude);
  await mkdir(outDir, { recursive: true, mode: PRIVATE_DIR_MODE }); // the manager fetches packages; QEMU never opens them
  const partial = join(outDir, `.partial-${randomBytes(4).toString('hex')}`);
  try {
    await runTool('mksquashfs', [stage, partial, ...PACKAGE_SQUASHFS_OPTIONS], SQUASHFS_TIMEOUT_MS);
    const sha256 = await sha256File(partial);
    const { size } = await stat(partial);
    await chmod(partial, SECRET_MODE);
    await fsyncPath(partial);
    await rename(partial, join(outDir, `${sha256}.squashfs`));
    await fsyncPath(outDir);
    return { sha256, size };
  } finally {
    await rm(partial, { force: true });
  }
}

/** Mounts the sources and merges their `upper/` directories into `stage`. */
async function mergeSources(sources: readonly string[], workDir: string, stage: string): Promise<void> {
  await withMountedLayers(sources, workDir, async (roots) => {
    const uppers: string[] = [];
    // A layer no guest ever mounted may lack upper/ (the initrd makes it): it adds nothing.
    for (const root of roots)
      if ((await lstat(join(root, 'upper')).catch(() => undefined))?.isDirectory()) uppers.push(join(root, 'upper'));
    await mergeUppers(uppers, stage);
  });
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
