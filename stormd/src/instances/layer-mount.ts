/**
 * Serves writable layers read-only on the host to read them whole, without the host kernel ever
 * parsing a guest's filesystem: each qcow2 becomes a scratch raw copy (the layer itself is never
 * touched), e2fsck replays the journal a hard power-off left, and fuse2fs serves it, both as an
 * unprivileged user (`guest-fs.ts`). A layer e2fsck cannot read is refused as damaged. Whatever
 * happens in `fn`, every mount is unmounted and every copy deleted before this returns; each mount
 * point is linked from `workDir` (`layer-N.mnt`), so a sweep after a crash finds it.
 *
 * @example
 * await withMountedLayers(['/d/instances/i1/writable/w0.qcow2'], '/d/instances/i1/.work-ab12', async ([w0]) => {
 *   await readdir(join(w0, 'upper'));
 * });
 */
import { rm, rmdir, symlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { runTool } from '../exec.js';
import { fuseMount, fuseUnmount, openScratch, readerMountPoint, repairScratch } from './guest-fs.js';

const COPY_TIMEOUT_MS = 30 * 60_000;

/** Runs `fn` with the mount point of each layer (same order); `workDir` must exist and be private. */
export async function withMountedLayers<T>(
  qcow2Paths: readonly string[],
  workDir: string,
  fn: (roots: string[]) => Promise<T>,
): Promise<T> {
  const undo: (() => Promise<unknown>)[] = [];
  let result: { value: T } | undefined;
  let failure: unknown;
  try {
    const roots: string[] = [];
    for (const [i, path] of qcow2Paths.entries()) roots.push(await mountOne(path, join(workDir, `layer-${i}`), undo));
    result = { value: await fn(roots) };
  } catch (err) {
    failure = err;
  }
  // Newest first: unmount before closing and deleting the copy.
  for (const step of undo.reverse()) {
    try {
      await step();
    } catch (err) {
      failure ??= err;
    }
  }
  if (!result || failure !== undefined) throw failure;
  return result.value;
}

async function mountOne(qcow2: string, base: string, undo: (() => Promise<unknown>)[]): Promise<string> {
  const raw = `${base}.raw`;
  undo.push(() => rm(raw, { force: true }));
  await runTool('qemu-img', ['convert', '-q', '-f', 'qcow2', '-O', 'raw', qcow2, raw], COPY_TIMEOUT_MS);
  const image = await openScratch(raw);
  undo.push(() => image.close());
  await repairScratch(image, `writable layer ${basename(qcow2, '.qcow2')}`);
  const mnt = await readerMountPoint();
  undo.push(() => rmdir(mnt));
  await symlink(mnt, `${base}.mnt`);
  undo.push(() => rm(`${base}.mnt`, { force: true }));
  await fuseMount(image, mnt);
  undo.push(() => fuseUnmount(mnt));
  return mnt;
}

/** umount, retried briefly: a just-finished reader may still hold the mount for a moment. */
export async function unmount(mnt: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await runTool('umount', [mnt]);
      return;
    } catch (err) {
      if (attempt >= 5) throw err;
      await new Promise((r) => setTimeout(r, 200 * attempt));
    }
  }
}
