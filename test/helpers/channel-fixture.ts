/**
 * A published channel for tests: a publisher key, `storm-channel build` of a source folder into a
 * served directory, and the request log of the real `storm-channel serve` server.
 *
 * @example
 * const ch = await publishChannel({ src: 'test/fixtures/channel-src' });
 * await subscribe(ch.feedUrl, ch.publicKey);
 * ch.requests; // every request the channel server answered
 */
import { access, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { publishSampleChannel } from '../../appliances/src/sample-channel.js';
import { startThrottleProxy } from './throttle-proxy.js';
import { buildChannel, generatePublisherKey, startChannelServer, type RequestLogEntry } from '../../channels/src/index.js';

export const FIXTURE_CHANNEL_SRC = resolve(import.meta.dirname, '../fixtures/channel-src');

export interface PublishedChannel {
  readonly dir: string;
  readonly baseUrl: string;
  readonly feedUrl: string;
  readonly publicKey: string;
  readonly keyPath: string;
  readonly requests: RequestLogEntry[];
  /** Rebuilds the channel from `src` with `keyPath` (another key to test refusals). */
  rebuild(src?: string, keyPath?: string): Promise<void>;
  close(): Promise<void>;
}

/** The build output of `npm run build:appliances` (guest artifacts and sample layers). */
export const APPLIANCE_BUILD = resolve(import.meta.dirname, '../../appliances/build');

/**
 * The real sample channel (tiny-os, hello-web 1.0.0 and 1.1.0) published from the built artifacts
 * into a served temp folder with its own key; fails with a hint when the artifacts are missing.
 */
export async function publishSampleChannelForTest(): Promise<PublishedChannel> {
  await access(join(APPLIANCE_BUILD, 'layers', 'tiny-os.squashfs')).catch(() => {
    throw new Error(`guest artifacts missing in ${APPLIANCE_BUILD}: run \`npm run build:appliances\` first`);
  });
  const root = await mkdtemp(join(tmpdir(), 'storm-samples-'));
  const dir = join(root, 'channel');
  await mkdir(dir, { recursive: true });
  const requests: RequestLogEntry[] = [];
  const server = await startChannelServer({ dir, onRequest: (e) => requests.push(e) });
  const publish = (keyDir: string) =>
    publishSampleChannel({ artifacts: APPLIANCE_BUILD, channelDir: dir, keyDir, baseUrl: server.url, log: () => undefined }).then(
      () => undefined,
    );
  await publish(join(root, 'keys'));
  return {
    dir,
    baseUrl: server.url,
    feedUrl: new URL('channel.xml', server.url).href,
    publicKey: await readFile(join(root, 'keys', 'publisher.pub'), 'utf8'),
    keyPath: join(root, 'keys', 'publisher.key'),
    requests,
    rebuild: async (_src, keyPath) => publish(keyPath ? dirname(keyPath) : join(root, 'keys')),
    close: async () => {
      await server.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

export interface PublishOptions {
  readonly src?: string;
  readonly port?: number;
  /** Serve through a rate-limited proxy (every URL in the channel points at it), to interrupt downloads. */
  readonly throttleBytesPerSecond?: number;
}

export async function publishChannel(opts: PublishOptions = {}): Promise<PublishedChannel> {
  const root = await mkdtemp(join(tmpdir(), 'storm-channel-'));
  const dir = join(root, 'channel');
  const keys = await generatePublisherKey(join(root, 'keys'));
  const requests: RequestLogEntry[] = [];
  await mkdir(dir, { recursive: true });
  const server = await startChannelServer({ dir, port: opts.port ?? 0, onRequest: (e) => requests.push(e) });
  const proxy = opts.throttleBytesPerSecond ? await startThrottleProxy(server.url, opts.throttleBytesPerSecond) : undefined;
  const baseUrl = proxy?.url ?? server.url;
  const src = opts.src ?? FIXTURE_CHANNEL_SRC;
  const build = (from: string, keyPath: string) => buildChannel({ src: from, out: dir, baseUrl, keyPath }).then(() => undefined);
  await build(src, keys.privateKeyPath);
  return {
    dir,
    baseUrl,
    feedUrl: new URL('channel.xml', baseUrl).href,
    publicKey: await readFile(keys.publicKeyPath, 'utf8'),
    keyPath: keys.privateKeyPath,
    requests,
    rebuild: (from = src, keyPath = keys.privateKeyPath) => build(from, keyPath),
    close: async () => {
      await proxy?.close();
      await server.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}
