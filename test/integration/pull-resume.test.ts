/**
 * A pull killed at about half (kill -9 of the manager process) resumes after a restart from where
 * it stopped: the channel server sees a Range from the partial size, and the result verifies.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { bigLayerSource } from '../helpers/big-layer-channel.js';
import { publishChannel, type PublishedChannel } from '../helpers/channel-fixture.js';
import { startManager } from '../helpers/manager-process.js';
import { pollUntil } from '../helpers/poll.js';
import { stopAllProcesses } from '../helpers/process.js';

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

const start = () => startManager(join(work, 'data'), ['--channel-allow', '127.0.0.0/8']);

const sha256File = async (path: string) => {
  const h = createHash('sha256');
  for await (const c of createReadStream(path)) h.update(c as Buffer);
  return h.digest('hex');
};

it('resumes a pull interrupted by kill -9 from the partial size', async () => {
  let m = await start();
  // The channel is served through a throttling proxy so the layer arrives slowly enough to interrupt.
  await m.api.post('/channels', { url: channel.feedUrl, publicKey: channel.publicKey });
  const entry = await m.api.get<{ layers: { sha256: string; size: number }[] }>('/appliances/big-app/1.0.0');
  const big = entry.layers.find((l) => l.size === SIZE)!;
  const part = join(work, 'data', 'images', '.partial', `${big.sha256}.part`);

  void m.api.post('/appliances/big-app/1.0.0/pull').catch(() => undefined);
  const deadline = Date.now() + 60_000;
  while (
    (await stat(part).then(
      (s) => s.size,
      () => 0,
    )) <
    SIZE / 2
  ) {
    if (Date.now() > deadline) throw new Error('the pull never reached half');
    await new Promise((r) => setTimeout(r, 50));
  }
  expect(await m.proc.stop('SIGKILL')).toMatchObject({ signal: 'SIGKILL' });
  const partial = (await stat(part)).size;
  expect(partial).toBeGreaterThanOrEqual(SIZE / 2);
  expect(partial).toBeLessThan(SIZE);

  // The channel server logs a request when its response closes, which for the killed pull comes a
  // moment after the kill: wait for that entry before clearing, or it lands among the resumed ones.
  const isLayer = (r: { url: string }) => r.url.includes(big.sha256);
  await pollUntil('the interrupted layer request in the channel log', async () => (channel.requests.some(isLayer) ? true : undefined), {
    everyMs: 50,
  });
  channel.requests.length = 0;
  m = await start();
  await m.api.post('/appliances/big-app/1.0.0/pull');
  const layerRequests = channel.requests.filter(isLayer);
  expect(layerRequests).toHaveLength(1);
  const range = /^bytes=(\d+)-$/.exec(layerRequests[0]!.range ?? '');
  expect(Number(range?.[1])).toBe(partial);
  expect(layerRequests[0]).toMatchObject({ status: 206 });
  expect(await sha256File(join(work, 'data', 'images', big.sha256))).toBe(big.sha256);
  expect(await m.proc.stop('SIGTERM')).toEqual({ code: 0, signal: null });
}, 180_000);
