import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AddressPolicy } from '../outbound/address-policy.js';
import { diskImageCheck } from './image-check.js';
import { LayerCache } from './layer-cache.js';

// Disk images made by real qemu-img, served over loopback, pulled through the real layer cache.
const bodies = new Map<string, Buffer>();
let server: http.Server;
let base: string;
let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'storm-image-check-'));
  const img = (...args: string[]) => execFileSync('qemu-img', args, { stdio: 'pipe' });
  await writeFile(join(work, 'host-file'), 'a host secret\n');
  img('create', '-f', 'qcow2', join(work, 'good.qcow2'), '8M');
  img('create', '-f', 'qcow2', '-u', '-F', 'raw', '-b', join(work, 'host-file'), join(work, 'backed.qcow2'), '8M');
  img('create', '-f', 'qcow2', '-o', `data_file=${join(work, 'data.raw')}`, join(work, 'data-file.qcow2'), '8M');
  for (const name of ['good.qcow2', 'backed.qcow2', 'data-file.qcow2']) bodies.set(`/${name}`, await readFile(join(work, name)));
  server = http.createServer((req, res) => {
    const body = bodies.get(req.url ?? '');
    if (!body) return res.writeHead(404).end();
    res.writeHead(200, { 'content-length': body.length }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  await rm(work, { recursive: true, force: true });
});

async function pull(name: string, format: 'qcow2' | 'raw') {
  const dir = await mkdtemp(join(work, 'cache-'));
  const cache = new LayerCache(dir, { policy: new AddressPolicy({ allow: ['127.0.0.0/8'] }), timeoutMs: 5000 });
  await cache.init();
  const body = bodies.get(`/${name}`)!;
  const sha256 = createHash('sha256').update(body).digest('hex');
  const ref = { sha256, size: body.length, url: `${base}/${name}`, check: diskImageCheck(format, `test ${name}`) };
  const kept = async () => [...(await readdir(dir)), ...(await readdir(join(dir, '.partial')))].filter((n) => n !== '.partial');
  return { result: cache.pull(ref), kept, has: () => cache.has(sha256) };
}

describe('pulling a disk image through the layer cache', () => {
  it('keeps a standalone image of the stated format', async () => {
    const p = await pull('good.qcow2', 'qcow2');
    await p.result;
    expect(await p.has()).toBe(true);
  });

  it.each([
    ['backed.qcow2', 'qcow2', /backing file/],
    ['data-file.qcow2', 'qcow2', /external data file/],
    ['good.qcow2', 'raw', /it is qcow2, not raw as stated/],
  ] as const)('refuses %s stated %s and keeps nothing of it', async (name, format, reason) => {
    const p = await pull(name, format);
    await expect(p.result).rejects.toMatchObject({ code: 'MGR_ERR_IMAGE_REFUSED', message: expect.stringMatching(reason) });
    expect(await p.has()).toBe(false);
    expect(await p.kept()).toEqual([]);
  });
});
