/** Packs a directory into a reproducible squashfs image with mksquashfs. */
import { spawn } from 'node:child_process';
import { open, stat } from 'node:fs/promises';
import { ChanErr } from '../errors.js';

/** Flags that make the image a function of the files alone: no timestamps, owners or xattrs. */
export const MKSQUASHFS_FLAGS = ['-noappend', '-all-root', '-mkfs-time', '0', '-all-time', '0', '-no-xattrs', '-quiet'] as const;

export async function makeSquashfs(dir: string, out: string, mksquashfs = 'mksquashfs'): Promise<void> {
  const st = await stat(dir).catch(() => undefined);
  if (!st?.isDirectory()) throw ChanErr.CHAN_ERR_LAYER_SOURCE(`${dir} is not a directory`);
  const stderr: Buffer[] = [];
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(mksquashfs, [dir, out, ...MKSQUASHFS_FLAGS], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr.on('data', (d: Buffer) => stderr.push(d));
    child.on('error', reject);
    child.on('close', resolve);
  }).catch((err: NodeJS.ErrnoException) => {
    throw ChanErr.CHAN_ERR_SQUASHFS(err.code === 'ENOENT' ? `${mksquashfs} not found (apt-get install squashfs-tools)` : err.message, {
      cause: err,
    });
  });
  if (code !== 0) throw ChanErr.CHAN_ERR_SQUASHFS(`${dir}: exit ${code}: ${Buffer.concat(stderr).toString().trim().slice(0, 2000)}`);
}

/** Throws CHAN_ERR_LAYER_SOURCE unless `path` starts with the squashfs magic (`hsqs`). */
export async function assertSquashfs(path: string): Promise<void> {
  const fh = await open(path, 'r').catch((err: NodeJS.ErrnoException) => {
    throw ChanErr.CHAN_ERR_LAYER_SOURCE(err.code === 'ENOENT' ? `${path} does not exist` : `${path}: ${err.message}`, { cause: err });
  });
  try {
    const { bytesRead, buffer } = await fh.read(Buffer.alloc(4), 0, 4, 0);
    if (bytesRead < 4 || buffer.toString('latin1') !== 'hsqs') throw ChanErr.CHAN_ERR_LAYER_SOURCE(`${path} is not a squashfs image`);
  } finally {
    await fh.close();
  }
}
