/**
 * The manager's content-addressed layer cache. A download is hashed while it streams into
 * `.partial/<sha256>.part` and renamed to `<sha256>` only when size and sha256 match. After an
 * interruption (a killed manager included) it resumes with Range + If-Range; a changed validator
 * makes the server send the whole file and we start over. Two pulls of one layer share one download.
 *
 * @example
 * const cache = new LayerCache(join(data, 'images'), { policy, timeoutMs: 30_000 });
 * await cache.pull({ sha256, size, url }, (p) => events.emit('pull.progress', p));
 */
import { createWriteStream, fdatasync } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { MgrErr } from '../errors.js';
import type { AddressPolicy } from '../outbound/address-policy.js';
import { safeRequest } from '../outbound/safe-fetch.js';
import { type Progress, ProgressMeter } from './progress.js';
import { StreamHasher } from './stream-hasher.js';

export interface LayerRef {
  readonly sha256: string;
  readonly size: number;
  readonly url: string;
  /** How errors and events name the layer (e.g. `hello-web 1.0.0 appliance layer`). */
  readonly label?: string;
  /** Checks the verified bytes before they are kept (a disk image's qemu-img check); a throw keeps nothing. */
  readonly check?: (path: string) => Promise<void>;
}

export interface LayerCacheOptions {
  readonly policy: AddressPolicy;
  /** Head deadline and body idle timeout of each request. */
  readonly timeoutMs: number;
}

/** What a resumable download remembers between attempts. */
interface PartialMeta {
  readonly url: string;
  /** A strong ETag or a Last-Modified date, sent as If-Range. */
  readonly validator: string | null;
}

/** The range an interrupted download resumes from, for tests and logs. */
export interface PullResult {
  readonly path: string;
  readonly downloaded: boolean;
  readonly resumedFrom: number;
}

const SHA256 = /^[0-9a-f]{64}$/;
/** Bytes written between background fdatasync calls during a download (16 MiB pulled fastest on bench/ pull). */
const SYNC_EVERY = 16 * 1024 * 1024;

export class LayerCache {
  private readonly inflight = new Map<string, Promise<PullResult>>();
  private readonly listeners = new Map<string, Set<(p: Progress) => void>>();
  private readonly partialDir: string;

  constructor(
    readonly dir: string,
    private readonly opts: LayerCacheOptions,
  ) {
    this.partialDir = join(dir, '.partial');
  }

  async init(): Promise<void> {
    await mkdir(this.partialDir, { recursive: true });
  }

  path(sha256: string): string {
    if (!SHA256.test(sha256)) throw MgrErr.MGR_ERR_VALIDATION(`not a sha256: ${sha256}`);
    return join(this.dir, sha256);
  }

  async has(sha256: string): Promise<boolean> {
    return stat(this.path(sha256)).then(
      (s) => s.isFile(),
      () => false,
    );
  }

  /** Bytes already downloaded of an interrupted pull (0 when none). */
  async partialBytes(sha256: string): Promise<number> {
    return stat(join(this.partialDir, `${sha256}.part`)).then(
      (s) => s.size,
      () => 0,
    );
  }

  /** Makes the layer present and verified; joins a download already under way. */
  pull(layer: LayerRef, onProgress?: (p: Progress) => void): Promise<PullResult> {
    this.path(layer.sha256);
    if (onProgress) {
      const set = this.listeners.get(layer.sha256) ?? new Set();
      set.add(onProgress);
      this.listeners.set(layer.sha256, set);
    }
    let running = this.inflight.get(layer.sha256);
    if (!running) {
      running = this.download(layer).finally(() => {
        this.inflight.delete(layer.sha256);
        this.listeners.delete(layer.sha256);
      });
      this.inflight.set(layer.sha256, running);
    }
    return running;
  }

  /**
   * Takes a layer from a stream the manager itself produced (a package built on a host): written
   * and hashed the same way as a download, renamed into place only when size and sha256 match.
   */
  async ingest(
    layer: { sha256: string; size: number; label?: string; check?: (path: string) => Promise<void> },
    body: NodeJS.ReadableStream,
  ): Promise<PullResult> {
    const final = this.path(layer.sha256);
    if (await this.has(layer.sha256)) {
      (body as NodeJS.ReadableStream & { resume(): void }).resume();
      return { path: final, downloaded: false, resumedFrom: 0 };
    }
    const part = join(this.partialDir, `${layer.sha256}.part`);
    const metaPath = join(this.partialDir, `${layer.sha256}.json`);
    const hasher = new StreamHasher();
    try {
      return await this.receive({ ...layer, url: 'ingest:' }, body, hasher, {
        part,
        metaPath,
        final,
        have: 0,
        label: layer.label ?? `layer ${layer.sha256}`,
        validator: null,
      });
    } finally {
      await hasher.close();
    }
  }

  /** Removes a layer and any partial copy of it (the undo of an ingest that a failed operation made). */
  async discard(sha256: string): Promise<void> {
    for (const path of [this.path(sha256), join(this.partialDir, `${sha256}.part`), join(this.partialDir, `${sha256}.json`)])
      await rm(path, { force: true });
  }

  private emit(p: Progress): void {
    for (const fn of this.listeners.get(p.sha256) ?? []) fn(p);
  }

  private async download(layer: LayerRef): Promise<PullResult> {
    const final = this.path(layer.sha256);
    if (await this.has(layer.sha256)) return { path: final, downloaded: false, resumedFrom: 0 };
    const part = join(this.partialDir, `${layer.sha256}.part`);
    const metaPath = join(this.partialDir, `${layer.sha256}.json`);
    const label = layer.label ?? `layer ${layer.sha256}`;

    const meta = await readFile(metaPath, 'utf8').then(
      (s) => JSON.parse(s) as PartialMeta,
      () => null,
    );
    let have = await this.partialBytes(layer.sha256);
    const canResume = meta !== null && meta.url === layer.url && meta.validator !== null && have > 0 && have < layer.size;
    const headers: Record<string, string> = canResume ? { range: `bytes=${have}-`, 'if-range': meta.validator! } : {};

    const res = await safeRequest(layer.url, { policy: this.opts.policy, timeoutMs: this.opts.timeoutMs, headers });
    const hasher = new StreamHasher();
    try {
      if (res.status === 206 && canResume) {
        const start = Number(/^bytes (\d+)-/.exec(String(res.headers['content-range'] ?? ''))?.[1]);
        if (start !== have) {
          res.body.destroy();
          throw MgrErr.MGR_ERR_FETCH_FAILED(`${label}: server resumed at byte ${start}, expected ${have}`);
        }
        await hasher.updateFile(part);
      } else if (res.status === 200) {
        have = 0;
      } else {
        res.body.resume();
        throw MgrErr.MGR_ERR_FETCH_FAILED(`${label}: ${res.url} answered ${res.status}`);
      }
      return await this.receive(layer, res.body, hasher, {
        part,
        metaPath,
        final,
        have,
        label,
        validator: strongValidator(res.headers.etag, res.headers['last-modified']),
      });
    } finally {
      await hasher.close();
    }
  }

  /** Streams the body into the partial file while the worker hashes it; verifies and renames into place. */
  private async receive(
    layer: LayerRef,
    body: NodeJS.ReadableStream,
    hasher: StreamHasher,
    at: { part: string; metaPath: string; final: string; have: number; label: string; validator: string | null },
  ): Promise<PullResult> {
    const { part, metaPath, final, have, label } = at;

    await writeFile(metaPath, JSON.stringify({ url: layer.url, validator: at.validator } satisfies PartialMeta));

    const meter = new ProgressMeter(layer.sha256, layer.size, (p) => this.emit(p));
    const out = createWriteStream(part, { flags: have > 0 ? 'a' : 'w', highWaterMark: 1 << 20 });
    // Flush as we go, so the final fsync before the rename has little left to write.
    const syncs: Promise<void>[] = [];
    let fd: number | undefined;
    out.once('open', (opened: number) => (fd = opened));
    let unsynced = 0;
    let bytes = have;
    const counter = new Transform({
      highWaterMark: 1 << 20,
      transform(chunk: Buffer, _enc, cb) {
        bytes += chunk.length;
        if (bytes > layer.size) return cb(MgrErr.MGR_ERR_LAYER_SIZE(`${label}: more than the ${layer.size} bytes its descriptor states`));
        meter.update(bytes);
        unsynced += chunk.length;
        if (unsynced >= SYNC_EVERY && fd !== undefined) {
          unsynced = 0;
          const openFd = fd;
          syncs.push(new Promise((resolve) => fdatasync(openFd, () => resolve())));
        }
        hasher.update(chunk).then(() => cb(null, chunk), cb);
      },
    });
    await pipeline(body, counter, out);
    await Promise.all(syncs);

    if (bytes !== layer.size) {
      // A short body is an interruption: keep the partial file for a resume.
      throw MgrErr.MGR_ERR_LAYER_SIZE(`${label}: got ${bytes} of ${layer.size} bytes`);
    }
    const digest = await hasher.digest();
    if (digest !== layer.sha256) {
      await Promise.all([unlink(part).catch(() => undefined), unlink(metaPath).catch(() => undefined)]);
      throw MgrErr.MGR_ERR_LAYER_CHECKSUM(`${label}: expected sha256 ${layer.sha256}, got ${digest}`, {
        details: { sha256: layer.sha256, actual: digest },
      });
    }
    if (layer.check) {
      try {
        await layer.check(part);
      } catch (err) {
        await Promise.all([unlink(part).catch(() => undefined), unlink(metaPath).catch(() => undefined)]);
        throw err;
      }
    }
    await fsyncPath(part);
    await rename(part, final);
    await fsyncPath(this.dir);
    await unlink(metaPath).catch(() => undefined);
    meter.update(bytes, true);
    return { path: final, downloaded: true, resumedFrom: have };
  }
}

/** Weak ETags cannot be used with If-Range (RFC 9110 §13.1.5); fall back to Last-Modified. */
function strongValidator(etag: string | undefined, lastModified: string | undefined): string | null {
  if (etag && !etag.startsWith('W/')) return etag;
  return lastModified ?? null;
}

async function fsyncPath(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
