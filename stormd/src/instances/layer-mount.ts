/**
 * Mounts writable layers read-only on the host to read them whole: each qcow2 becomes a scratch
 * raw copy (the layer itself is never touched), e2fsck replays the journal a hard power-off left,
 * a read-only loop device carries it and ext4 is mounted `ro,nosuid,nodev,noexec`. Whatever
 * happens in `fn`, every mount is unmounted, every loop device detached by its path and every
 * copy deleted before this returns.
 *
 * @example
 * await withMountedLayers(['/d/instances/i1/writable/w0.qcow2'], '/d/instances/i1/.work-ab12', async ([w0]) => {
 *   await readdir(join(w0, 'upper'));
 * });
 */
import { mkdir, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { StormdErr } from '../errors.js';
import { runTool } from '../exec.js';
import { replayJournal } from './instance-layer.js';

const COPY_TIMEOUT_MS = 30 * 60_000;

/** Runs `fn` with the mount point of each layer (same order); `workDir` must exist and be private. */
export async function withMountedLayers<T>(qcow2Paths: readonly string[], workDir: string, fn: (roots: string[]) => Promise<T>): Promise<T> {
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
  // Newest first: unmount before detaching, detach before deleting the copy.
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
  const mnt = `${base}.mnt`;
  undo.push(() => rm(raw, { force: true }));
  await runTool('qemu-img', ['convert', '-q', '-f', 'qcow2', '-O', 'raw', qcow2, raw], COPY_TIMEOUT_MS);
  await replayJournal(raw);
  const loop = (await runTool('losetup', ['--find', '--show', '--read-only', raw])).stdout.toString().trim();
  if (!/^\/dev\/loop\d+$/.test(loop)) throw StormdErr.STORMD_ERR_TOOL_FAILED(`losetup answered ${JSON.stringify(loop)} for ${raw}`);
  undo.push(() => runTool('losetup', ['-d', loop]));
  await mkdir(mnt, { mode: 0o700 });
  undo.push(() => rmdir(mnt));
  await runTool('mount', ['-t', 'ext4', '-o', 'ro,nosuid,nodev,noexec', loop, mnt]);
  undo.push(() => unmount(mnt));
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
