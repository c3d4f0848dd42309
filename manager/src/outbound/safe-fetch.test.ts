import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AddressPolicy } from './address-policy.js';
import { fetchCapped, safeRequest } from './safe-fetch.js';

let server: http.Server;
let base: string;
const loopback = new AddressPolicy({ allow: ['127.0.0.0/8'] });

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    if (url === '/small') return res.end('hello');
    if (url === '/big') {
      res.writeHead(200); // no content-length: the cap must cut the stream
      const chunk = Buffer.alloc(64 * 1024, 120);
      let sent = 0;
      const push = () => {
        while (sent < 10 * 1024 * 1024) {
          sent += chunk.length;
          if (!res.write(chunk)) return res.once('drain', push);
        }
        res.end();
      };
      return push();
    }
    if (url.startsWith('/hop/')) {
      const n = Number(url.slice(5));
      res.writeHead(302, { location: n > 0 ? `/hop/${n - 1}` : '/small' });
      return res.end();
    }
    if (url === '/to-metadata') {
      res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' });
      return res.end();
    }
    if (url === '/to-file') {
      res.writeHead(302, { location: 'file:///etc/passwd' });
      return res.end();
    }
    if (url === '/slow') return setTimeout(() => res.end('late'), 2000);
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('safe fetch', () => {
  it('fetches within the cap', async () => {
    const res = await fetchCapped(`${base}/small`, 100, { policy: loopback, timeoutMs: 2000 });
    expect(res.body.toString()).toBe('hello');
  });

  it('cuts an oversized body at the cap', async () => {
    await expect(fetchCapped(`${base}/big`, 1024 * 1024, { policy: loopback, timeoutMs: 5000 })).rejects.toMatchObject({
      code: 'MGR_ERR_FETCH_TOO_LARGE',
    });
  });

  it('refuses loopback unless allowed, file:// and other schemes, and credentials', async () => {
    await expect(safeRequest(`${base}/small`, { policy: new AddressPolicy(), timeoutMs: 1000 })).rejects.toMatchObject({
      code: 'MGR_ERR_FETCH_REFUSED',
    });
    await expect(safeRequest('file:///etc/passwd', { policy: loopback, timeoutMs: 1000 })).rejects.toMatchObject({
      code: 'MGR_ERR_FETCH_REFUSED',
    });
    await expect(safeRequest('ftp://127.0.0.1/x', { policy: loopback, timeoutMs: 1000 })).rejects.toMatchObject({
      code: 'MGR_ERR_FETCH_REFUSED',
    });
    await expect(safeRequest('http://u:p@127.0.0.1/x', { policy: loopback, timeoutMs: 1000 })).rejects.toMatchObject({
      code: 'MGR_ERR_FETCH_REFUSED',
    });
  });

  it('refuses names that resolve to denied addresses (checked at lookup)', async () => {
    await expect(safeRequest('http://localhost:1/x', { policy: new AddressPolicy(), timeoutMs: 1000 })).rejects.toMatchObject({
      code: 'MGR_ERR_FETCH_REFUSED',
    });
  });

  it('follows a bounded number of redirects, re-checking each', async () => {
    expect((await fetchCapped(`${base}/hop/2`, 100, { policy: loopback, timeoutMs: 2000 })).body.toString()).toBe('hello');
    await expect(safeRequest(`${base}/hop/9`, { policy: loopback, timeoutMs: 2000, maxRedirects: 3 })).rejects.toMatchObject({
      code: 'MGR_ERR_FETCH_REFUSED',
    });
    await expect(safeRequest(`${base}/to-metadata`, { policy: loopback, timeoutMs: 2000 })).rejects.toMatchObject({
      code: 'MGR_ERR_FETCH_REFUSED',
    });
    await expect(safeRequest(`${base}/to-file`, { policy: loopback, timeoutMs: 2000 })).rejects.toMatchObject({
      code: 'MGR_ERR_FETCH_REFUSED',
    });
  });

  it('times out a slow server', async () => {
    await expect(safeRequest(`${base}/slow`, { policy: loopback, timeoutMs: 200 })).rejects.toMatchObject({
      code: 'MGR_ERR_FETCH_TIMEOUT',
    });
  });
});
