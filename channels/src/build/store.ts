/**
 * Writes into the channel directory: every file lands by rename from a temp file beside it, so a
 * reader (or `serve`) never sees a half-written file; content-addressed files are stored once.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ChanErr } from '../errors.js';

const tempName = (path: string): string => join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);

/** Writes `data` to `path` atomically (temp file, fsync, rename). */
export async function writeFileAtomic(path: string, data: Uint8Array, mode = 0o644): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = tempName(path);
  try {
    const fh = await open(tmp, 'wx', mode);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw ChanErr.CHAN_ERR_IO(`writing ${path}: ${(err as Error).message}`, { cause: err });
  }
}

export interface StoredFile {
  readonly sha256: string;
  readonly size: number;
  /** Path relative to the channel directory, e.g. `layers/<sha256>.squashfs`. */
  readonly rel: string;
  /** False when an identical file was already there. */
  readonly written: boolean;
}

/**
 * Copies `source` into `outDir/<folder>/<sha256><ext>`, hashing while it streams (one read of
 * the source), and keeps an existing file of that name and size instead of writing it again.
 * With `move`, `source` is a temp file on the same filesystem and is renamed instead of copied.
 */
export async function storeByHash(
  source: string,
  outDir: string,
  folder: string,
  ext: string,
  opts: { move?: boolean } = {},
): Promise<StoredFile> {
  const dir = join(outDir, folder);
  await mkdir(dir, { recursive: true });
  const hash = createHash('sha256');
  let size = 0;
  const tmp = opts.move ? source : tempName(join(dir, 'incoming'));
  try {
    const count = (chunk: Buffer): void => {
      hash.update(chunk);
      size += chunk.length;
    };
    if (opts.move) {
      for await (const chunk of createReadStream(source)) count(chunk as Buffer);
    } else {
      const tap = new Transform({
        transform(chunk: Buffer, _enc, done) {
          count(chunk);
          done(null, chunk);
        },
      });
      await pipeline(createReadStream(source), tap, createWriteStream(tmp, { flags: 'wx', mode: 0o644 }));
    }
    const sha256 = hash.digest('hex');
    const rel = `${folder}/${sha256}${ext}`;
    const final = join(outDir, rel);
    const existing = await stat(final).catch(() => undefined);
    if (existing?.isFile() && existing.size === size) {
      await unlink(tmp);
      return { sha256, size, rel, written: false };
    }
    await rename(tmp, final);
    return { sha256, size, rel, written: true };
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw ChanErr.CHAN_ERR_IO(`storing ${source}: ${(err as Error).message}`, { cause: err });
  }
}
