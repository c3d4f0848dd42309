/**
 * The host's content-addressed store: every read-only file a domain uses (squashfs layers,
 * kernels, initrds) lives at `<data>/layers/<sha256>`. A file only ever appears there whole and
 * verified: it streams into a temporary file while it is hashed, its size and sha256 are checked,
 * it is fsynced and then renamed into place. Concurrent stages of one sha256 share one download.
 *
 * @example
 * const store = new LayerStore('/var/lib/stormd');
 * await store.init();
 * await store.stage(sha, { url, size }, (url) => manager.getStream(url)); // { sha256, size, staged: true }
 * store.path(sha); // '/var/lib/stormd/layers/<sha>'
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StormError } from '../../../common/errors.js';
import { StormdErr } from '../errors.js';
import { fsyncPath } from '../fsync.js';
import type { Activity } from '../activity.js';
import { KeyedLock } from '../keyed-lock.js';
import { LAYER_FILE_MODE, placeInStore, STORE_DIR_MODE } from './store-access.js';

export const SHA256 = /^[0-9a-f]{64}$/;
const PARTIAL_PREFIX = '.partial-';

/** Opens the bytes at `url`; `size` is what the caller declared, for an early length check. */
export type LayerFetcher = (url: string, size: number) => Promise<Readable>;

/** Answers whether a defined domain uses the store file at `path` (the instances service knows). */
export type LayerUseCheck = (path: string) => Promise<boolean>;

export interface StageSource {
  readonly url: string;
  readonly size: number;
}

export interface StageResult {
  readonly sha256: string;
  readonly size: number;
  /** False when the store already held the file and nothing was fetched. */
  readonly staged: boolean;
}

export interface StoredLayer {
  readonly sha256: string;
  readonly size: number;
}

/** Throws STORMD_ERR_BAD_INPUT unless `sha256` is 64 lowercase hex digits. */
export function checkSha256(sha256: string): string {
  if (!SHA256.test(sha256)) throw StormdErr.STORMD_ERR_BAD_INPUT(`${JSON.stringify(sha256)} is not a lowercase hex sha256`);
  return sha256;
}

export interface LayerStoreOptions {
  /** Where downloads under way are listed (`GET /v1/activity`). */
  readonly activity?: Activity;
}

export class LayerStore {
  readonly dir: string;
  private readonly inflight = new Map<string, Promise<number>>();
  private inUse: LayerUseCheck = async () => false;
  private readonly useLock = new KeyedLock();
  private readonly activity: Activity | undefined;

  constructor(dataDir: string, opts: LayerStoreOptions = {}) {
    this.dir = join(dataDir, 'layers');
    this.activity = opts.activity;
  }

  /** Makes the folder (the qemu group traverses it, see `store-access.ts`) and drops partials a crash left. */
  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: STORE_DIR_MODE });
    await placeInStore(this.dir, STORE_DIR_MODE);
    for (const name of await readdir(this.dir)) {
      if (name.startsWith(PARTIAL_PREFIX)) await rm(join(this.dir, name), { force: true });
    }
  }

  /** Installs the check `remove` asks before deleting (the instances service, wired at start). */
  setUseCheck(check: LayerUseCheck): void {
    this.inUse = check;
  }

  path(sha256: string): string {
    return join(this.dir, checkSha256(sha256));
  }

  async has(sha256: string): Promise<boolean> {
    return (await this.sizeOf(sha256)) !== undefined;
  }

  /** Every stored file, sorted by sha256. */
  async list(): Promise<StoredLayer[]> {
    const out: StoredLayer[] = [];
    for (const name of (await readdir(this.dir)).sort()) {
      if (!SHA256.test(name)) continue;
      const size = await this.sizeOf(name);
      if (size !== undefined) out.push({ sha256: name, size });
    }
    return out;
  }

  /** Fetches and stores `sha256` unless it is already here; a mismatch leaves nothing behind. */
  async stage(sha256: string, source: StageSource, fetcher: LayerFetcher): Promise<StageResult> {
    checkSha256(sha256);
    if (!Number.isSafeInteger(source.size) || source.size < 0)
      throw StormdErr.STORMD_ERR_BAD_INPUT(`size ${source.size} must be a non-negative integer`);
    const present = await this.sizeOf(sha256);
    if (present !== undefined) return { sha256, size: present, staged: false };
    let download = this.inflight.get(sha256);
    if (!download) {
      download = this.download(sha256, source, fetcher).finally(() => this.inflight.delete(sha256));
      this.inflight.set(sha256, download);
    }
    return { sha256, size: await download, staged: true };
  }

  /**
   * Runs `fn` while no `remove` can run: a define checks its layers are here and defines the
   * domain inside it, so a removal cannot slip between the check and the domain that uses them.
   */
  guard<T>(fn: () => Promise<T>): Promise<T> {
    return this.useLock.run('use', fn);
  }

  /** Deletes a stored file; refused while a defined domain uses it; absent is not an error. */
  remove(sha256: string): Promise<boolean> {
    const path = this.path(sha256);
    return this.guard(async () => {
      if (await this.inUse(path)) throw StormdErr.STORMD_ERR_LAYER_IN_USE(sha256);
      if ((await this.sizeOf(sha256)) === undefined) return false;
      await rm(path, { force: true });
      await fsyncPath(this.dir);
      return true;
    });
  }

  private async sizeOf(sha256: string): Promise<number | undefined> {
    try {
      const s = await stat(this.path(sha256));
      return s.isFile() ? s.size : undefined;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  private async download(sha256: string, source: StageSource, fetcher: LayerFetcher): Promise<number> {
    const partial = join(this.dir, `${PARTIAL_PREFIX}${sha256}-${randomBytes(4).toString('hex')}`);
    let received = 0;
    const done = this.activity?.begin(() => `fetching layer ${sha256.slice(0, 12)} from the manager: ${received} of ${source.size} bytes`);
    try {
      const hash = createHash('sha256');
      const check = new Transform({
        transform(chunk: Buffer, _enc, done) {
          received += chunk.length;
          // Stop at the first byte past the declared size rather than fill the disk.
          if (received > source.size)
            return done(StormdErr.STORMD_ERR_LAYER_MISMATCH(`${sha256}: more than the declared ${source.size} bytes`));
          hash.update(chunk);
          done(null, chunk);
        },
      });
      try {
        const body = await fetcher(source.url, source.size);
        await pipeline(body, check, createWriteStream(partial, { flags: 'wx', mode: LAYER_FILE_MODE }));
      } catch (err) {
        throw err instanceof StormError ? err : StormdErr.STORMD_ERR_FETCH_FAILED(`${source.url}: ${errText(err)}`, { cause: err });
      }
      if (received !== source.size)
        throw StormdErr.STORMD_ERR_LAYER_MISMATCH(`${sha256}: received ${received} bytes, declared ${source.size}`);
      const actual = hash.digest('hex');
      if (actual !== sha256) throw StormdErr.STORMD_ERR_LAYER_MISMATCH(`${source.url} has sha256 ${actual}, expected ${sha256}`);
      await placeInStore(partial, LAYER_FILE_MODE); // the create mode is masked by umask; the qemu group reads it
      await fsyncPath(partial);
      await rename(partial, join(this.dir, sha256));
      await fsyncPath(this.dir); // make the rename itself durable
      return received;
    } catch (err) {
      await rm(partial, { force: true });
      throw err;
    } finally {
      done?.();
    }
  }
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
