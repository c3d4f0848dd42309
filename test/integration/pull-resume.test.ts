/**
 * A pull killed at about half (kill -9 of the manager process) resumes after a restart from where
 * it stopped: the channel server sees a Range from the partial size, and the result verifies.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { bigLayerSource } from '../helpers/big-layer-channel.js';
import { publishChannel, type PublishedChannel } from '../helpers/channel-fixture.js';
import { startProcess, stopAllProcesses, type TestProcess } from '../helpers/process.js';

const ROOT = resolve(import.meta.dirname, '../..');
const SIZE = 48 * 1024 * 1024;
let work: string;
let channel: PublishedChannel;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'storm-resume-'));
  channel = await publishChannel({ src: await bigLayerSource(work, SIZE), throttleBytesPerSecond: 12 * 1024 * 1024 });
});
afterAll(async () => {
  await stopAllProcesses();
  await channel?.close();
  await rm(work, { recursive: true, force: true });
});

const startManager = async (): Promise<{ proc: TestProcess; url: string; token: string }> => {
  const proc = startProcess(process.execPath, [join(ROOT, 'bin/storm-manager.js'), '--data', join(work, 'data'), '--listen', '127.0.0.1:0', '--channel-allow', '127.0.0.0/8', '--channel-poll', '0', '--log-level', 'warn'], { cwd: ROOT });
  const [, url] = await proc.waitForLine(/listening on (\S+)/, 30_000);
  const token = (await readFile(join(work, 'data', 'admin.token'), 'utf8')).trim();
  return { proc, url: url!, token };
};

const sha256File = async (path: string) => {
  const h = createHash('sha256');
  for await (const c of createReadStream(path)) h.update(c as Buffer);
  return h.digest('hex');
};

it('resumes a pull interrupted by kill -9 from the partial size', async () => {
  let m = await startManager();
  const call = (path: string, method = 'GET', body?: object) =>
    fetch(`${m.url}/api/v1${path}`, { method, headers: { authorization: `Bearer ${m.token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
  // The channel is served through a throttling proxy so the layer arrives slowly enough to interrupt.
  const sub = await call('/channels', 'POST', { url: channel.feedUrl, publicKey: channel.publicKey });
  expect(sub.status).toBe(201);
  const entry = (await (await call('/appliances/big-app/1.0.0')).json()) as { layers: { sha256: string; size: number }[] };
  const big = entry.layers.find((l) => l.size === SIZE)!;
  const part = join(work, 'data', 'images', '.partial', `${big.sha256}.part`);

  void call('/appliances/big-app/1.0.0/pull', 'POST').catch(() => undefined);
  const deadline = Date.now() + 60_000;
  while ((await stat(part).then((s) => s.size, () => 0)) < SIZE / 2) {
    if (Date.now() > deadline) throw new Error('the pull never reached half');
    await new Promise((r) => setTimeout(r, 50));
  }
  expect(await m.proc.stop('SIGKILL')).toMatchObject({ signal: 'SIGKILL' });
  const partial = (await stat(part)).size;
  expect(partial).toBeGreaterThanOrEqual(SIZE / 2);
  expect(partial).toBeLessThan(SIZE);

  channel.requests.length = 0;
  m = await startManager();
  const pulled = await call('/appliances/big-app/1.0.0/pull', 'POST');
  expect(pulled.status).toBe(200);
  const layerRequests = channel.requests.filter((r) => r.url.includes(big.sha256));
  expect(layerRequests).toHaveLength(1);
  const range = /^bytes=(\d+)-$/.exec(layerRequests[0]!.range ?? '');
  expect(Number(range?.[1])).toBe(partial);
  expect(layerRequests[0]).toMatchObject({ status: 206 });
  expect(await sha256File(join(work, 'data', 'images', big.sha256))).toBe(big.sha256);
  expect(await m.proc.stop('SIGTERM')).toEqual({ code: 0, signal: null });
}, 180_000);
