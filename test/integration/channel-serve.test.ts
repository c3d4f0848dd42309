/** `startChannelServer` over real HTTP on loopback: ranges, validators, streaming, and no way out of its directory. */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, open, rm, symlink, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChannelServer, type RequestLogEntry, startChannelServer } from '../../channels/src/serve/server.js';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** Raw HTTP so the path reaches the server exactly as written (fetch would normalize `..`). */
function send(base: string, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Reply> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('channel server', () => {
  let work: string;
  let dir: string;
  let srv: ChannelServer;
  const seen: RequestLogEntry[] = [];
  const data = randomBytes(100_000);
  const GiB = 1024 ** 3;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'chan-serve-'));
    dir = join(work, 'channel');
    await mkdir(join(dir, 'layers'), { recursive: true });
    await writeFile(join(dir, 'layers', 'data.bin'), data);
    await writeFile(join(dir, 'channel.xml'), '<rss version="2.0"/>\n');
    await writeFile(join(dir, 'empty'), '');
    await writeFile(join(dir, '.hidden'), 'hidden');
    await writeFile(join(work, 'secret.txt'), 'secret');
    await symlink(join(work, 'secret.txt'), join(dir, 'escape'));
    await symlink(work, join(dir, 'escape-dir'));
    await symlink(join(dir, 'layers', 'data.bin'), join(dir, 'inside'));
    const big = await open(join(dir, 'layers', 'big.bin'), 'w'); // sparse 1 GiB
    await big.truncate(GiB);
    await big.close();
    srv = await startChannelServer({ dir, port: 0, onRequest: (e) => seen.push(e) });
  });
  afterAll(async () => {
    await srv?.close();
    await rm(work, { recursive: true, force: true });
  });

  it('serves a whole file with strong validators and range support', async () => {
    const r = await send(srv.url, '/layers/data.bin');
    expect(r.status).toBe(200);
    expect(r.body.equals(data)).toBe(true);
    expect(r.headers['etag']).toMatch(/^"[0-9a-f]+-[0-9a-f]+-[0-9a-f]+"$/);
    expect(r.headers['last-modified']).toMatch(/GMT$/);
    expect(r.headers['accept-ranges']).toBe('bytes');
    expect(r.headers['content-length']).toBe('100000');
    expect(r.headers['cache-control']).toContain('immutable');
    expect((await send(srv.url, '/channel.xml')).headers['content-type']).toBe('application/rss+xml; charset=utf-8');
  });

  it('answers single ranges with 206 and the exact bytes', async () => {
    for (const [range, start, end] of [
      ['bytes=0-99', 0, 99],
      ['bytes=99900-', 99_900, 99_999],
      ['bytes=-10', 99_990, 99_999],
      ['bytes=50000-999999', 50_000, 99_999],
    ] as const) {
      const r = await send(srv.url, '/layers/data.bin', { Range: range });
      expect(r.status, range).toBe(206);
      expect(r.headers['content-range']).toBe(`bytes ${start}-${end}/100000`);
      expect(r.body.equals(data.subarray(start, end + 1))).toBe(true);
    }
    expect(seen.some((e) => e.range === 'bytes=-10' && e.status === 206 && e.bytes === 10)).toBe(true);
  });

  it('answers 416 with the size when the range cannot be satisfied', async () => {
    const r = await send(srv.url, '/layers/data.bin', { Range: 'bytes=100000-' });
    expect(r.status).toBe(416);
    expect(r.headers['content-range']).toBe('bytes */100000');
    expect((await send(srv.url, '/empty', { Range: 'bytes=0-' })).status).toBe(416);
  });

  it('serves the whole file for multi-range or malformed Range headers', async () => {
    expect((await send(srv.url, '/layers/data.bin', { Range: 'bytes=0-1,5-6' })).status).toBe(200);
    expect((await send(srv.url, '/layers/data.bin', { Range: 'lines=1-2' })).status).toBe(200);
  });

  it('honours If-Range: partial when the validator matches, the full file when not', async () => {
    const { headers } = await send(srv.url, '/layers/data.bin', {}, 'HEAD');
    const etag = String(headers['etag']);
    const lm = String(headers['last-modified']);
    expect((await send(srv.url, '/layers/data.bin', { Range: 'bytes=0-9', 'If-Range': etag })).status).toBe(206);
    expect((await send(srv.url, '/layers/data.bin', { Range: 'bytes=0-9', 'If-Range': lm })).status).toBe(206);
    const stale = await send(srv.url, '/layers/data.bin', { Range: 'bytes=0-9', 'If-Range': '"stale"' });
    expect(stale.status).toBe(200);
    expect(stale.body.length).toBe(100_000);
    expect((await send(srv.url, '/layers/data.bin', { Range: 'bytes=0-9', 'If-Range': `W/${etag}` })).status).toBe(200);
    expect(seen.some((e) => e.ifRange === '"stale"' && e.status === 200)).toBe(true);
  });

  it('answers If-None-Match and If-Modified-Since with 304, If-Match mismatches with 412', async () => {
    const { headers } = await send(srv.url, '/layers/data.bin', {}, 'HEAD');
    const etag = String(headers['etag']);
    const r = await send(srv.url, '/layers/data.bin', { 'If-None-Match': `"other", ${etag}` });
    expect(r.status).toBe(304);
    expect(r.body.length).toBe(0);
    expect(r.headers['etag']).toBe(etag);
    expect((await send(srv.url, '/layers/data.bin', { 'If-None-Match': '"other"' })).status).toBe(200);
    expect((await send(srv.url, '/layers/data.bin', { 'If-Modified-Since': String(headers['last-modified']) })).status).toBe(304);
    expect((await send(srv.url, '/layers/data.bin', { 'If-Match': '"other"' })).status).toBe(412);
  });

  it('answers HEAD with the headers of GET and no body; refuses other methods', async () => {
    const r = await send(srv.url, '/layers/data.bin', { Range: 'bytes=0-9' }, 'HEAD');
    expect(r.status).toBe(206);
    expect(r.headers['content-length']).toBe('10');
    expect(r.body.length).toBe(0);
    const post = await send(srv.url, '/layers/data.bin', {}, 'POST');
    expect(post.status).toBe(405);
    expect(post.headers['allow']).toBe('GET, HEAD');
  });

  it.each([
    '/../secret.txt',
    '/layers/../../secret.txt',
    '/%2e%2e/secret.txt',
    '/%2E%2E%2Fsecret.txt',
    '/..%2fsecret.txt',
    '/layers%2f..%2f..%2fsecret.txt',
    '/..%5csecret.txt',
    '//etc/passwd',
    '/etc/passwd',
    '/escape',
    '/escape-dir/secret.txt',
    '/.hidden',
    '/layers/',
    '/',
    '/channel.xml%00.txt',
  ])('serves nothing outside the directory: %s', async (path) => {
    const r = await send(srv.url, path);
    expect([400, 404]).toContain(r.status);
    expect(r.body.toString()).not.toContain('secret');
  });

  it('refuses request targets that are not paths', async () => {
    expect((await send(srv.url, 'http://evil.example/../secret.txt')).status).toBe(400);
    expect((await send(srv.url, '/%E0%A4%A')).status).toBe(400);
  });

  it('follows a symlink that stays inside the directory', async () => {
    expect((await send(srv.url, '/inside')).body.equals(data)).toBe(true);
  });

  it('streams a 1 GiB file without holding it in memory', async () => {
    const tail = await send(srv.url, '/layers/big.bin', { Range: `bytes=${GiB - 16}-` });
    expect(tail.status).toBe(206);
    expect(tail.body.length).toBe(16);
    const before = process.memoryUsage().rss;
    let peak = before;
    let total = 0;
    const u = new URL(srv.url);
    await new Promise<void>((resolve, reject) => {
      request({ host: u.hostname, port: u.port, path: '/layers/big.bin' }, (res) => {
        expect(res.headers['content-length']).toBe(String(GiB));
        res.on('data', (chunk: Buffer) => {
          total += chunk.length;
          if ((total & 0x3ffffff) < chunk.length) peak = Math.max(peak, process.memoryUsage().rss);
        });
        res.on('end', resolve);
        res.on('error', reject);
      })
        .on('error', reject)
        .end();
    });
    expect(total).toBe(GiB);
    expect(peak - before).toBeLessThan(256 * 1024 * 1024);
  }, 60_000);

  it('reports an aborted download and keeps serving', async () => {
    const u = new URL(srv.url);
    await new Promise<void>((resolve) => {
      const req = request({ host: u.hostname, port: u.port, path: '/layers/big.bin' }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.end();
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(seen.some((e) => e.url === '/layers/big.bin' && !e.completed)).toBe(true);
    expect((await send(srv.url, '/channel.xml')).status).toBe(200);
  });

  it('refuses to serve a directory that does not exist', async () => {
    await expect(startChannelServer({ dir: join(work, 'nope') })).rejects.toMatchObject({ code: 'CHAN_ERR_SERVE_DIR' });
  });
});
