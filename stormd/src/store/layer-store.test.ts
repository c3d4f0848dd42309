import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StormdErr } from '../errors.js';
import { type LayerFetcher, LayerStore } from './layer-store.js';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const bytes = Buffer.from('squashfs layer bytes '.repeat(1000));
const bytesSha = sha(bytes);

/** A fetcher serving `body` in small chunks, counting calls; the one place a test plays the network. */
function fetcherOf(body: Buffer, calls = { n: 0 }, delayMs = 0): LayerFetcher {
  return async () => {
    calls.n += 1;
    if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
    const chunks: Buffer[] = [];
    for (let i = 0; i < body.length; i += 1000) chunks.push(body.subarray(i, i + 1000));
    return Readable.from(chunks);
  };
}

describe('LayerStore', () => {
  let data: string;
  let store: LayerStore;
  beforeEach(async () => {
    data = await mkdtemp(join(tmpdir(), 'storm-store-'));
    store = new LayerStore(data);
    await store.init();
  });
  afterEach(async () => {
    await rm(data, { recursive: true, force: true });
  });

  it("stages a file by its sha256, for the qemu group only (0640 in a 0710 folder, the folder's group)", async () => {
    expect(await store.stage(bytesSha, { url: 'https://m/x', size: bytes.length }, fetcherOf(bytes))).toEqual({
      sha256: bytesSha,
      size: bytes.length,
      staged: true,
    });
    expect(await readFile(store.path(bytesSha))).toEqual(bytes);
    expect((await stat(store.path(bytesSha))).mode & 0o777).toBe(0o640);
    expect((await stat(store.dir)).mode & 0o777).toBe(0o710);
    expect((await stat(store.path(bytesSha))).gid).toBe((await stat(store.dir)).gid);
    expect(await store.list()).toEqual([{ sha256: bytesSha, size: bytes.length }]);
    expect(await store.has(bytesSha)).toBe(true);
  });

  it('does not fetch a file it holds', async () => {
    const calls = { n: 0 };
    await store.stage(bytesSha, { url: 'u', size: bytes.length }, fetcherOf(bytes, calls));
    expect(await store.stage(bytesSha, { url: 'u', size: bytes.length }, fetcherOf(bytes, calls))).toMatchObject({ staged: false });
    expect(calls.n).toBe(1);
  });

  it('shares one download between concurrent stages of one sha256', async () => {
    const calls = { n: 0 };
    const results = await Promise.all(
      [1, 2, 3].map(() => store.stage(bytesSha, { url: 'u', size: bytes.length }, fetcherOf(bytes, calls, 50))),
    );
    expect(calls.n).toBe(1);
    expect(results.every((r) => r.staged && r.size === bytes.length)).toBe(true);
  });

  it.each([
    ['a sha256 mismatch', Buffer.from('tampered'.repeat(10)), 80, /sha256/],
    ['more bytes than declared', bytes, 100, /more than the declared 100 bytes/],
    ['fewer bytes than declared', bytes, bytes.length + 1, /received \d+ bytes, declared/],
  ])('refuses %s and leaves nothing behind', async (_what, body, size, message) => {
    const err = await store.stage(bytesSha, { url: 'u', size }, fetcherOf(body)).catch((e: unknown) => e);
    expect(StormdErr.STORMD_ERR_LAYER_MISMATCH.is(err)).toBe(true);
    expect(String((err as Error).message)).toMatch(message);
    expect(await readdir(store.dir)).toEqual([]);
  });

  it('turns a fetch failure into STORMD_ERR_FETCH_FAILED and leaves nothing', async () => {
    const broken: LayerFetcher = async () =>
      new Readable({
        read() {
          this.destroy(new Error('connection reset'));
        },
      });
    await expect(store.stage(bytesSha, { url: 'u', size: 1 }, broken)).rejects.toSatisfy((e) => StormdErr.STORMD_ERR_FETCH_FAILED.is(e));
    expect(await readdir(store.dir)).toEqual([]);
  });

  it('refuses a bad sha256 and removes partials a crash left at init', async () => {
    await expect(store.stage('ABC', { url: 'u', size: 1 }, fetcherOf(bytes))).rejects.toSatisfy((e) =>
      StormdErr.STORMD_ERR_BAD_INPUT.is(e),
    );
    expect(() => store.path('../etc/passwd')).toThrow(/sha256/);
    await writeFile(join(store.dir, `.partial-${bytesSha}-dead`), 'half');
    await store.init();
    expect(await readdir(store.dir)).toEqual([]);
  });

  it('removes a file unless a defined domain uses it; absent is not an error', async () => {
    await store.stage(bytesSha, { url: 'u', size: bytes.length }, fetcherOf(bytes));
    let used = true;
    store.setUseCheck(async (path) => used && path === store.path(bytesSha));
    await expect(store.remove(bytesSha)).rejects.toSatisfy((e) => StormdErr.STORMD_ERR_LAYER_IN_USE.is(e));
    used = false;
    expect(await store.remove(bytesSha)).toBe(true);
    expect(await store.remove(bytesSha)).toBe(false);
    expect(await store.list()).toEqual([]);
  });
});
