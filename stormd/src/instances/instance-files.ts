/**
 * An instance's own files as a cold move carries them between hosts: its writable layers, their
 * `next-id` mark, a legacy `instance.qcow2` (`writable-layers.ts` says what each is). Read with
 * their sha256 (`list`), streamed out (`open`), and received: written beside their final place,
 * checked against the size and sha256 the sender stated, fsynced, then renamed into place, so a
 * file either arrives whole and verified or not at all.
 *
 * @example
 * const files = new InstanceFiles('/var/lib/stormd/instances');
 * (await files.list('i1')).files; // [{ path: 'writable/next-id', … }, { path: 'writable/w0.qcow2', size, sha256 }]
 * await files.receive('i1', { path: 'writable/w0.qcow2', sha256, size }, request.raw);
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { InstanceFileEntry, InstanceFiles as InstanceFilesAnswer, ReceiveFileQuery } from '../../protocol.js';
import { StormdErr } from '../errors.js';
import { fsyncPath } from '../fsync.js';
import { DISK_MODE, placeInStore, STORE_DIR_MODE } from '../store/store-access.js';
import { currentLayer, LEGACY_LAYER_FILE, layerFiles, WRITABLE_DIR } from './writable-layers.js';

/** The paths a move may read or write: nothing else in (or out of) the instance's folder. */
export const MOVABLE_PATH = /^(writable\/(w(0|[1-9][0-9]{0,8})(\.merged)?\.qcow2|next-id)|instance\.qcow2)$/;

export class InstanceFiles {
  constructor(private readonly instancesDir: string) {}

  private folder(id: string): string {
    return join(this.instancesDir, id);
  }

  private pathOf(id: string, path: string): string {
    if (!MOVABLE_PATH.test(path)) throw StormdErr.STORMD_ERR_BAD_INPUT(`${JSON.stringify(path)} is not a file a move carries`);
    return join(this.folder(id), path);
  }

  /** Every movable file of the instance, sorted by path; 404 when it has none. */
  async list(id: string): Promise<InstanceFilesAnswer> {
    const folder = this.folder(id);
    const names = [
      ...(await readdir(join(folder, WRITABLE_DIR)).catch(() => [] as string[])).map((n) => `${WRITABLE_DIR}/${n}`),
      ...(await readdir(folder).catch(() => [] as string[])).filter((n) => n === LEGACY_LAYER_FILE),
    ]
      .filter((p) => MOVABLE_PATH.test(p))
      .sort();
    if (!names.length) throw StormdErr.STORMD_ERR_INSTANCE_NOT_FOUND(`${id} has no writable layers on this host`);
    const files: InstanceFileEntry[] = [];
    for (const path of names) files.push(await describe(join(folder, path), path));
    return { files };
  }

  /**
   * The instance's frozen writable layers (every layer file but the current one), sorted by path:
   * what a replica copies while the guest runs, since nothing writes them again. Empty when none.
   */
  async frozen(id: string): Promise<InstanceFilesAnswer> {
    const folder = this.folder(id);
    const layers = await layerFiles(folder);
    const current = currentLayer(layers)?.path;
    const files: InstanceFileEntry[] = [];
    for (const l of layers) {
      if (l.path === current) continue;
      files.push(await describe(l.path, relative(folder, l.path)));
    }
    return { files: files.sort((a, b) => a.path.localeCompare(b.path)) };
  }

  /** True when `path` is the instance's current writable layer (the one a running guest writes). */
  async isCurrent(id: string, path: string): Promise<boolean> {
    return currentLayer(await layerFiles(this.folder(id)))?.path === this.pathOf(id, path);
  }

  /** The file's size and a stream of its bytes. */
  async open(id: string, path: string): Promise<{ size: number; stream: NodeJS.ReadableStream }> {
    const file = this.pathOf(id, path);
    const s = await stat(file).catch(() => undefined);
    if (!s?.isFile()) throw StormdErr.STORMD_ERR_LAYER_FILE_NOT_FOUND(`${id} ${path}`);
    return { size: s.size, stream: createReadStream(file) };
  }

  /** Writes `body` to `path` once its size and sha256 are the stated ones; STORMD_ERR_LAYER_MISMATCH (nothing kept) when not. */
  async receive(id: string, want: ReceiveFileQuery, body: NodeJS.ReadableStream): Promise<InstanceFileEntry> {
    const file = this.pathOf(id, want.path);
    const folder = this.folder(id);
    for (const dir of [folder, dirname(file)]) {
      await mkdir(dir, { recursive: true, mode: STORE_DIR_MODE });
      await placeInStore(dir, STORE_DIR_MODE); // the qemu group must reach the layers
    }
    const partial = join(dirname(file), `.incoming-${randomBytes(4).toString('hex')}`);
    const hash = createHash('sha256');
    let size = 0;
    const count = new Transform({
      transform(chunk: Buffer, _enc, done) {
        hash.update(chunk);
        size += chunk.length;
        if (size > want.size) return done(StormdErr.STORMD_ERR_LAYER_MISMATCH(`${want.path}: more than the stated ${want.size} bytes`));
        done(null, chunk);
      },
    });
    try {
      await pipeline(body, count, createWriteStream(partial, { mode: DISK_MODE }));
      const sha256 = hash.digest('hex');
      if (size !== want.size || sha256 !== want.sha256)
        throw StormdErr.STORMD_ERR_LAYER_MISMATCH(
          `${want.path}: got ${size} bytes, sha256 ${sha256}; the sender stated ${want.size}, ${want.sha256}`,
        );
      await placeInStore(partial, DISK_MODE);
      await fsyncPath(partial);
      await rename(partial, file);
      await fsyncPath(dirname(file));
      return { path: want.path, size, sha256 };
    } finally {
      await rm(partial, { force: true });
    }
  }
}

async function describe(file: string, path: string): Promise<InstanceFileEntry> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { path, size, sha256: hash.digest('hex') };
}
