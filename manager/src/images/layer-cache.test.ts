import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AddressPolicy } from '../outbound/address-policy.js';
import { LayerCache } from './layer-cache.js';

// A minimal Range/If-Range origin; the full static server is storm-channel's (tested there).
const files = new Map<string, { body: Buffer; etag: string }>();
const seen: { url: string; range?: string; ifRange?: string }[] = [];
let server: http.Server;
let base: string;
let dir: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const file = files.get(req.url ?? '');
    seen.push({ url: req.url ?? '', range: req.headers.range, ifRange: req.headers['if-range'] as string | undefined });
    if (!file) return res.writeHead(404).end();
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (m && req.headers['if-range'] === file.etag) {
      const start = Number(m[1]);
      res.writeHead(206, {
        etag: file.etag,
        'content-range': `bytes ${start}-${file.body.length - 1}/${file.body.length}`,
        'content-length': file.body.length - start,
      });
      return res.end(file.body.subarray(start));
    }
    res.writeHead(200, { etag: file.etag, 'content-length': file.body.length });
    res.end(file.body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(async () => {
  seen.length = 0;
  dir = await mkdtemp(join(tmpdir(), 'storm-cache-'));
  return () => rm(dir, { recursive: true, force: true });
});

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
function serve(name: string, body: Buffer, etag = `"${sha(body).slice(0, 16)}"`) {
  files.set(`/${name}`, { body, etag });
  return { sha256: sha(body), size: body.length, url: `${base}/${name}` };
}
const newCache = async () => {
  const c = new LayerCache(dir, { policy: new AddressPolicy({ allow: ['127.0.0.0/8'] }), timeoutMs: 5000 });
  await c.init();
  return c;
};

describe('LayerCache', () => {
  it('downloads, verifies and stores a layer under its sha256, reporting progress', async () => {
    const body = randomBytes(3 * 1024 * 1024);
    const layer = serve('a', body);
    const cache = await newCache();
    const progress: number[] = [];
    const r = await cache.pull(layer, (p) => progress.push(p.bytes));
    expect(r.downloaded).toBe(true);
    expect((await readFile(cache.path(layer.sha256))).equals(body)).toBe(true);
    expect(progress.at(-1)).toBe(body.length);
  });

  it('sends no request for a cached layer', async () => {
    const layer = serve('b', randomBytes(1000));
    const cache = await newCache();
    await cache.pull(layer);
    seen.length = 0;
    expect((await cache.pull(layer)).downloaded).toBe(false);
    expect(seen).toEqual([]);
  });

  it('refuses a layer whose bytes differ, naming it, and keeps nothing', async () => {
    const good = randomBytes(5000);
    const layer = serve('c', good);
    const flipped = Buffer.from(good);
    flipped[100] = flipped[100]! ^ 1;
    files.set('/c', { body: flipped, etag: '"x"' });
    const cache = await newCache();
    await expect(cache.pull({ ...layer, label: 'hello-web 1.0.0 appliance layer' })).rejects.toMatchObject({
      code: 'MGR_ERR_LAYER_CHECKSUM',
      message: expect.stringContaining('hello-web 1.0.0 appliance layer'),
    });
    expect(await cache.has(layer.sha256)).toBe(false);
    expect((await readdir(join(dir, '.partial'))).length).toBe(0);
  });

  it('resumes an interrupted download with Range + If-Range', async () => {
    const body = randomBytes(200_000);
    const layer = serve('d', body);
    const cache = await newCache();
    await writeFile(join(dir, '.partial', `${layer.sha256}.part`), body.subarray(0, 80_000));
    await writeFile(join(dir, '.partial', `${layer.sha256}.json`), JSON.stringify({ url: layer.url, validator: files.get('/d')!.etag }));
    const r = await cache.pull(layer);
    expect(r.resumedFrom).toBe(80_000);
    expect(seen.at(-1)).toMatchObject({ range: 'bytes=80000-', ifRange: files.get('/d')!.etag });
    expect(sha(await readFile(r.path))).toBe(layer.sha256);
  });

  it('starts over when the validator changed', async () => {
    const body = randomBytes(50_000);
    const layer = serve('e', body);
    const cache = await newCache();
    await writeFile(join(dir, '.partial', `${layer.sha256}.part`), randomBytes(10_000));
    await writeFile(join(dir, '.partial', `${layer.sha256}.json`), JSON.stringify({ url: layer.url, validator: '"stale"' }));
    const r = await cache.pull(layer);
    expect(r.resumedFrom).toBe(0);
    expect(sha(await readFile(r.path))).toBe(layer.sha256);
  });

  it('shares one download between concurrent pulls of one layer', async () => {
    const layer = serve('f', randomBytes(1024 * 1024));
    const cache = await newCache();
    const [a, b] = await Promise.all([cache.pull(layer), cache.pull(layer)]);
    expect(a).toBe(b);
    expect(seen.filter((s) => s.url === '/f')).toHaveLength(1);
  });

  it('refuses a body longer than the descriptor says', async () => {
    const layer = serve('g', randomBytes(10_000));
    const cache = await newCache();
    await expect(cache.pull({ ...layer, size: 5000 })).rejects.toMatchObject({ code: 'MGR_ERR_LAYER_SIZE' });
    expect(await cache.has(layer.sha256)).toBe(false);
  });
});
