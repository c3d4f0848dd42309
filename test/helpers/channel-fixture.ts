/**
 * A published channel for tests: a publisher key, `storm-channel build` of a source folder into a
 * served directory, and the request log of the real `storm-channel serve` server.
 *
 * @example
 * const ch = await publishChannel({ src: 'test/fixtures/channel-src' });
 * await subscribe(ch.feedUrl, ch.publicKey);
 * ch.requests; // every request the channel server answered
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
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

export async function publishChannel(opts: { src?: string; port?: number } = {}): Promise<PublishedChannel> {
  const root = await mkdtemp(join(tmpdir(), 'storm-channel-'));
  const dir = join(root, 'channel');
  const keys = await generatePublisherKey(join(root, 'keys'));
  const requests: RequestLogEntry[] = [];
  await import('node:fs/promises').then((fs) => fs.mkdir(dir, { recursive: true }));
  const server = await startChannelServer({ dir, port: opts.port ?? 0, onRequest: (e) => requests.push(e) });
  const src = opts.src ?? FIXTURE_CHANNEL_SRC;
  const build = (from: string, keyPath: string) => buildChannel({ src: from, out: dir, baseUrl: server.url, keyPath }).then(() => undefined);
  await build(src, keys.privateKeyPath);
  return {
    dir,
    baseUrl: server.url,
    feedUrl: new URL('channel.xml', server.url).href,
    publicKey: await readFile(keys.publicKeyPath, 'utf8'),
    keyPath: keys.privateKeyPath,
    requests,
    rebuild: (from = src, keyPath = keys.privateKeyPath) => build(from, keyPath),
    close: async () => {
      await server.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}
