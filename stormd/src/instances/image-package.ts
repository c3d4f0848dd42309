/**
 * The package of a traditional instance: its overlay chain (the top frozen overlay and every
 * overlay and the staged image behind it) flattened by `qemu-img convert` into a scratch raw disk,
 * the instance's identity scrubbed from it in user space (`image-scrub.ts`), then written as a
 * standalone qcow2 (no backing file; the holes the scrub punched and the zeros stay unallocated)
 * stored under its sha256 as `<sha256>.qcow2`. Scratch lives in `workDir` (made and removed by the caller).
 *
 * @example
 * await buildImagePackage('/d/instances/i1/writable/w1.qcow2', workDir, '/d/instances/i1/packages', ['/var/lib/cloud']);
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { PackageResponse } from '../../protocol.js';
import { runTool } from '../exec.js';
import { fsyncPath } from '../fsync.js';
import { PRIVATE_DIR_MODE, SECRET_MODE } from '../store/store-access.js';
import { openScratch } from './guest-fs.js';
import { rootPartition, scrubFilesystem } from './image-scrub.js';
import { sha256File } from './layer-builds.js';

const CONVERT_TIMEOUT_MS = 60 * 60_000;
export const IMAGE_PACKAGE_SUFFIX = '.qcow2';

export async function buildImagePackage(
  top: string,
  workDir: string,
  outDir: string,
  exclude: readonly string[],
  what: string,
): Promise<PackageResponse> {
  const raw = join(workDir, 'flat.raw');
  // Every overlay states its backing format, so the chain is read as written, never probed.
  await runTool('qemu-img', ['convert', '-q', '-f', 'qcow2', '-O', 'raw', top, raw], CONVERT_TIMEOUT_MS);
  await scrubRoot(raw, join(workDir, 'root.raw'), exclude, what);
  await mkdir(outDir, { recursive: true, mode: PRIVATE_DIR_MODE });
  const partial = join(outDir, `.partial-${randomBytes(4).toString('hex')}`);
  try {
    await runTool('qemu-img', ['convert', '-q', '-f', 'raw', '-O', 'qcow2', raw, partial], CONVERT_TIMEOUT_MS);
    await rm(raw, { force: true });
    const sha256 = await sha256File(partial);
    const { size } = await stat(partial);
    await chmod(partial, SECRET_MODE);
    await fsyncPath(partial);
    await rename(partial, join(outDir, `${sha256}${IMAGE_PACKAGE_SUFFIX}`));
    await fsyncPath(outDir);
    return { sha256, size };
  } finally {
    await rm(partial, { force: true });
  }
}

/** qemu's `--image-opts` for `bytes` of the raw file `path` from `offset` (a comma in a path is doubled). */
const slice = (path: string, offset: number, bytes: number) =>
  `driver=raw,offset=${offset},size=${bytes},file.driver=file,file.filename=${path.replaceAll(',', ',,')}`;

/**
 * Scrubs the root filesystem of the raw disk `raw`: in place when the disk is that filesystem, else
 * copied out to `scratch`, scrubbed there and written back over its partition, zeros and holes
 * included (`-n` writes them), so nothing the scrub freed stays in the disk.
 */
async function scrubRoot(raw: string, scratch: string, exclude: readonly string[], what: string): Promise<void> {
  const disk = await openScratch(raw);
  let root: { offset: number; bytes: number | null };
  try {
    root = await rootPartition(disk, what);
    if (root.bytes === null) return await scrubFilesystem(disk, exclude, what);
  } finally {
    await disk.close();
  }
  const part = slice(raw, root.offset, root.bytes);
  await runTool('qemu-img', ['convert', '-q', '--image-opts', part, '-O', 'raw', scratch], CONVERT_TIMEOUT_MS);
  const fs = await openScratch(scratch);
  try {
    await scrubFilesystem(fs, exclude, what);
  } finally {
    await fs.close();
  }
  await runTool('qemu-img', ['convert', '-q', '-n', '-f', 'raw', scratch, '--target-image-opts', part], CONVERT_TIMEOUT_MS);
  await rm(scratch, { force: true });
}
