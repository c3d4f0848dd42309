/**
 * Channels end to end inside one manager (buildApp + inject) against the real `storm-channel`
 * build and server: subscribe, list, pull into the cache, refusals that leave the catalog as it was.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { generatePublisherKey, startChannelServer } from '../../channels/src/index.js';
import { BILLION_LAUGHS, PROTO_ELEMENT, XXE } from '../../channels/src/format/hostile.js';
import { buildApp } from '../../manager/src/app.js';
import { managerConfig } from '../../manager/src/config.js';
import { publishChannel, publishSampleChannelForTest, type PublishedChannel } from '../helpers/channel-fixture.js';

let dataDir: string;
let app: FastifyInstance;
let channel: PublishedChannel;
let auth: { authorization: string };

const api = async (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object) => {
  const res = await app.inject({ method, url: `/api/v1${url}`, headers: auth, ...(payload ? { payload } : {}) });
  return { status: res.statusCode, body: res.body ? res.json() : undefined };
};

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'storm-mgr-ch-'));
  channel = await publishChannel();
  app = await buildApp(managerConfig({ data: dataDir, logLevel: 'silent', channelAllow: ['127.0.0.0/8'], channelPollSeconds: 0 }));
  auth = { authorization: `Bearer ${(await readFile(join(dataDir, 'admin.token'), 'utf8')).trim()}` };
});
afterAll(async () => {
  await app?.close();
  await channel?.close();
  await rm(dataDir, { recursive: true, force: true });
});

const sha256 = async (path: string) =>
  createHash('sha256')
    .update(await readFile(path))
    .digest('hex');

describe('channels in the manager', () => {
  let channelId: string;

  it('refuses a subscription without a publisher key, and file:// URLs', async () => {
    expect((await api('POST', '/channels', { url: channel.feedUrl })).status).toBe(400);
    const file = await api('POST', '/channels', { url: 'file:///etc/passwd', publicKey: channel.publicKey });
    expect(file.status).toBe(400);
    expect(file.body.code).toBe('MGR_ERR_FETCH_REFUSED');
  });

  it('subscribes with the pinned key and lists every appliance version', async () => {
    const sub = await api('POST', '/channels', { url: channel.feedUrl, publicKey: channel.publicKey });
    expect(sub.status).toBe(201);
    expect(sub.body).toMatchObject({ status: 'ok', signed: true, lastError: null });
    channelId = sub.body.id;
    const list = await api('GET', '/appliances');
    const names = list.body.appliances.map((a: { name: string; version: string }) => `${a.name}@${a.version}`);
    expect(names).toEqual(['hello-web@1.1.0', 'hello-web@1.0.0', 'mail-relay@0.1.0']);
    expect(list.body.appliances.every((a: { cached: boolean }) => !a.cached)).toBe(true);
    expect((await api('GET', '/channels')).body.channels).toHaveLength(1);
  });

  it('pulls: every file lands in the cache once, under its sha256, shared ones stored once', async () => {
    const a = await api('POST', '/appliances/hello-web/1.0.0/pull');
    expect(a.status).toBe(200);
    const b = await api('POST', '/appliances/mail-relay/0.1.0/pull');
    expect(b.status).toBe(200);
    const listed = (await api('GET', '/appliances')).body.appliances as {
      name: string;
      version: string;
      cached: boolean;
      layers: { sha256: string }[];
    }[];
    const hello = listed.find((x) => x.name === 'hello-web' && x.version === '1.0.0')!;
    const mail = listed.find((x) => x.name === 'mail-relay')!;
    expect(hello.cached && mail.cached).toBe(true);
    const osLayer = hello.layers[0]!.sha256;
    expect(mail.layers[0]!.sha256).toBe(osLayer);
    const files = (await readdir(join(dataDir, 'images'))).filter((f) => !f.startsWith('.'));
    const expected = new Set([...hello.layers, ...mail.layers].map((l) => l.sha256));
    expect(new Set(files)).toEqual(expected);
    for (const f of files) expect(await sha256(join(dataDir, 'images', f))).toBe(f);
    const images = (await api('GET', '/images')).body.images as { sha256: string; usedBy: { name: string }[] }[];
    expect(
      images
        .find((i) => i.sha256 === osLayer)!
        .usedBy.map((u) => u.name)
        .sort(),
    ).toEqual(['hello-web', 'hello-web', 'mail-relay']);
  });

  it('sends no request to the channel server to list or re-pull a cached appliance', async () => {
    channel.requests.length = 0;
    await api('GET', '/appliances');
    const again = await api('POST', '/appliances/hello-web/1.0.0/pull');
    expect(again.body.downloadedBytes).toBe(0);
    expect(channel.requests).toEqual([]);
  });

  it('refuses a layer with one flipped byte, naming it; nothing enters the cache', async () => {
    const entry = (await api('GET', '/appliances/hello-web/1.1.0')).body as { layers: { sha256: string; kind: string; cached: boolean }[] };
    const victim = entry.layers.find((l) => !l.cached && l.kind !== 'kernel' && l.kind !== 'initrd')!;
    const path = join(channel.dir, 'layers', `${victim.sha256}.squashfs`);
    const good = await readFile(path);
    const bad = Buffer.from(good);
    bad[bad.length >> 1] = bad[bad.length >> 1]! ^ 0xff;
    await writeFile(path, bad);
    const pull = await api('POST', '/appliances/hello-web/1.1.0/pull');
    expect(pull.status).toBe(502);
    expect(pull.body.code).toBe('MGR_ERR_LAYER_CHECKSUM');
    expect(pull.body.message).toContain(victim.sha256.slice(0, 12));
    expect(pull.body.message).toContain('hello-web 1.1.0');
    expect((await readdir(join(dataDir, 'images'))).includes(victim.sha256)).toBe(false);
    expect((await readdir(join(dataDir, 'images', '.partial'))).length).toBe(0);
    expect((await api('GET', '/appliances/hello-web/1.1.0')).body.cached).toBe(false);
    await writeFile(path, good);
    expect((await api('POST', '/appliances/hello-web/1.1.0/pull')).status).toBe(200);
  });

  it('refuses a feed with one byte changed, or signed by another key, keeping what it knew', async () => {
    const before = (await api('GET', '/appliances')).body;
    const feedPath = join(channel.dir, 'channel.xml');
    const feed = await readFile(feedPath);
    const tampered = Buffer.from(feed.toString('utf8').replace('Hello web', 'Hellp web'));
    expect(tampered.equals(feed)).toBe(false);
    await writeFile(feedPath, tampered);
    const refreshed = await api('POST', `/channels/${channelId}/refresh`);
    expect(refreshed.body).toMatchObject({ status: 'failed', lastError: expect.stringMatching(/CHAN_ERR_SIGNATURE_INVALID/) });
    expect((await api('GET', '/appliances')).body).toEqual(before);

    const other = await generatePublisherKey(join(dataDir, 'other-key'));
    await channel.rebuild(undefined, other.privateKeyPath);
    const otherKey = await api('POST', `/channels/${channelId}/refresh`);
    expect(otherKey.body).toMatchObject({ status: 'failed', lastError: expect.stringMatching(/not signed by the key/) });
    expect((await api('GET', '/appliances')).body).toEqual(before);

    await channel.rebuild();
    expect((await api('POST', `/channels/${channelId}/refresh`)).body.status).toBe('ok');
  });
});

describe('hostile feeds', () => {
  let dir: string;
  let server: Awaited<ReturnType<typeof startChannelServer>>;
  let unsigned: FastifyInstance;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'storm-hostile-'));
    server = await startChannelServer({ dir });
    unsigned = await buildApp(
      managerConfig({
        data: join(dir, 'data'),
        logLevel: 'silent',
        channelAllow: ['127.0.0.0/8'],
        channelPollSeconds: 0,
        allowUnsignedChannels: true,
      }),
    );
  });
  afterAll(async () => {
    await unsigned?.close();
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const subscribe = async (file: string, body: string | Buffer) => {
    await writeFile(join(dir, file), body);
    const token = (await readFile(join(dir, 'data', 'admin.token'), 'utf8')).trim();
    const res = await unsigned.inject({
      method: 'POST',
      url: '/api/v1/channels',
      headers: { authorization: `Bearer ${token}` },
      payload: { url: `${server.url}${file}` },
    });
    return { status: res.statusCode, body: res.json() };
  };

  it('cuts an oversized feed at the cap', async () => {
    const huge = `<rss version="2.0"><channel><title>t</title><link>http://x/</link><description>${'x'.repeat(9 * 1024 * 1024)}</description></channel></rss>`;
    const res = await subscribe('huge.xml', huge);
    expect(res.status).toBe(422);
    expect(res.body.message).toMatch(/MGR_ERR_FETCH_TOO_LARGE/);
  });

  it('rejects entity expansion, external entities and __proto__ payloads, leaving prototypes clean', async () => {
    for (const [file, payload] of [
      ['laughs.xml', BILLION_LAUGHS],
      ['xxe.xml', XXE],
      ['proto.xml', PROTO_ELEMENT],
    ] as const) {
      const res = await subscribe(file, payload);
      expect(res.status, file).toBe(422);
      expect(res.body.code).toBe('MGR_ERR_CHANNEL_REFUSED');
    }
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
  });
});

describe('the sample channel of npm run build:appliances', () => {
  it('subscribes, lists hello-web 1.0.0 and 1.1.0, pulls both; tiny-os, kernel and initrd are stored once', async () => {
    const samples = await publishSampleChannelForTest();
    const data = await mkdtemp(join(tmpdir(), 'storm-mgr-samples-'));
    const mgr = await buildApp(managerConfig({ data, logLevel: 'silent', channelAllow: ['127.0.0.0/8'], channelPollSeconds: 0 }));
    try {
      const headers = { authorization: `Bearer ${(await readFile(join(data, 'admin.token'), 'utf8')).trim()}` };
      const sub = await mgr.inject({
        method: 'POST',
        url: '/api/v1/channels',
        headers,
        payload: { url: samples.feedUrl, publicKey: samples.publicKey },
      });
      expect(sub.statusCode).toBe(201);
      const listed = (await mgr.inject({ method: 'GET', url: '/api/v1/appliances', headers })).json().appliances as {
        name: string;
        version: string;
        upgradesFrom: string | null;
      }[];
      expect(listed.map((a) => `${a.name}@${a.version}<-${a.upgradesFrom}`)).toEqual(['hello-web@1.1.0<-1.0.0', 'hello-web@1.0.0<-null']);
      for (const v of ['1.0.0', '1.1.0'])
        expect((await mgr.inject({ method: 'POST', url: `/api/v1/appliances/hello-web/${v}/pull`, headers })).statusCode).toBe(200);
      const images = (await mgr.inject({ method: 'GET', url: '/api/v1/images', headers })).json().images as {
        sha256: string;
        kind: string;
        usedBy: unknown[];
      }[];
      expect(images.map((i) => i.kind).sort()).toEqual(['appliance', 'appliance', 'initrd', 'kernel', 'os']);
      expect(images.find((i) => i.kind === 'os')!.usedBy).toHaveLength(2);
      const files = (await readdir(join(data, 'images'))).filter((f) => !f.startsWith('.'));
      expect(files).toHaveLength(5);
      for (const f of files) expect(await sha256(join(data, 'images', f))).toBe(f);
    } finally {
      await mgr.close();
      await samples.close();
      await rm(data, { recursive: true, force: true });
    }
  });
});
