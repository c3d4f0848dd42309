/**
 * Reproducible squashfs images: owner root, every time 0, no xattrs, so building the same tree
 * twice gives the same sha256.
 */
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { run } from './run.js';

export const MKSQUASHFS_OPTIONS = [
  '-noappend',
  '-reproducible',
  '-all-root',
  '-mkfs-time',
  '0',
  '-all-time',
  '0',
  '-no-xattrs',
  '-quiet',
  '-no-progress',
] as const;

export async function mksquashfsVersion(): Promise<string> {
  const { stdout } = await run('mksquashfs', ['-version']);
  return stdout.split('\n')[0]?.trim() ?? 'unknown';
}

/** Packs `srcDir` into `outFile` (written beside it first, then renamed into place). */
export async function makeSquashfs(srcDir: string, outFile: string): Promise<void> {
  const tmp = `${outFile}.tmp`;
  await mkdir(dirname(outFile), { recursive: true });
  await rm(tmp, { force: true });
  await run('mksquashfs', [srcDir, tmp, ...MKSQUASHFS_OPTIONS]);
  await rename(tmp, outFile);
}
