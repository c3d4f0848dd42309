/**
 * Feeds move forward only: a real manager subscribed to a real channel server. The publisher
 * publishes an older feed (one appliance version) and a newer one (three); the server serves the
 * newer one, then the older one again, validly signed by the same key. The manager refuses the
 * older feed with a clear error and its catalog stays what the newer feed said.
 */
import { cp, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildChannel, generatePublisherKey, startChannelServer } from '../../channels/src/index.js';
import { FIXTURE_CHANNEL_SRC } from '../helpers/channel-fixture.js';
import { startManager, type ManagerProcess } from '../helpers/manager-process.js';
import { stopAllProcesses } from '../helpers/process.js';

let tmp: string;
let served: string;
let server: Awaited<ReturnType<typeof startChannelServer>>;
let manager: ManagerProcess;
let channelId: string;
let older: string;

interface ChannelView {
  id: string;
  status: string;
  lastError: string | null;
}
const catalog = async () =>
  (await manager.api.get<{ appliances: { name: string; version: string }[] }>('/appliances')).appliances
    .map((a) => `${a.name} ${a.version}`)
    .sort();

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'storm-feed-order-'));
  served = join(tmp, 'served');
  older = join(tmp, 'older');
  const keys = await generatePublisherKey(join(tmp, 'keys'));
  await mkdir(served);
  server = await startChannelServer({ dir: served });
  // The older publication knew one version; the same source folder, with the others still to come.
  const oldSrc = join(tmp, 'old-src');
  await cp(FIXTURE_CHANNEL_SRC, oldSrc, { recursive: true });
  await rm(join(oldSrc, 'hello-web-1.1.0'), { recursive: true });
  await rm(join(oldSrc, 'mail-relay-0.1.0'), { recursive: true });
  await buildChannel({ src: oldSrc, out: older, baseUrl: server.url, keyPath: keys.privateKeyPath, published: '2024-03-01T00:00:00Z' });
  await buildChannel({
    src: FIXTURE_CHANNEL_SRC,
    out: served,
    baseUrl: server.url,
    keyPath: keys.privateKeyPath,
    published: '2024-04-01T00:00:00Z',
  });
  manager = await startManager(join(tmp, 'manager'), ['--channel-allow', '127.0.0.0/8']);
  channelId = (
    await manager.api.post<ChannelView>('/channels', {
      url: `${server.url}channel.xml`,
      publicKey: await readFile(keys.publicKeyPath, 'utf8'),
    })
  ).id;
}, 120_000);

afterAll(async () => {
  await stopAllProcesses();
  await server?.close();
  await rm(tmp, { recursive: true, force: true });
});

describe('a replayed older feed', () => {
  it('the newer feed is taken', async () => {
    expect(await catalog()).toEqual(['hello-web 1.0.0', 'hello-web 1.1.0', 'mail-relay 0.1.0']);
  });

  it('is refused with a clear error, and the catalog stays the newer one', async () => {
    for (const file of ['channel.xml', 'channel.xml.sig']) await cp(join(older, file), join(served, file));
    const refreshed = await manager.api.post<ChannelView>(`/channels/${channelId}/refresh`);
    expect(refreshed.status).toBe('failed');
    expect(refreshed.lastError).toMatch(
      /MGR_ERR_CHANNEL_REFUSED: .*the feed was published at 2024-03-01T00:00:00Z, before the feed held \(published at 2024-04-01T00:00:00Z\): an older feed replayed; the catalog is unchanged/,
    );
    expect(await catalog()).toEqual(['hello-web 1.0.0', 'hello-web 1.1.0', 'mail-relay 0.1.0']);
  });

  it('a later publication is taken again', async () => {
    await buildChannel({
      src: FIXTURE_CHANNEL_SRC,
      out: served,
      baseUrl: server.url,
      keyPath: join(tmp, 'keys', 'publisher.key'),
      published: '2024-05-01T00:00:00Z',
    });
    expect((await manager.api.post<ChannelView>(`/channels/${channelId}/refresh`)).status).toBe('ok');
  });
});
