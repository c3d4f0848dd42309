/**
 * Fetches and checks one channel: the feed (conditional GET), its detached signature against the
 * pinned key, then every descriptor the feed names (skipping those whose signed sha256 we already
 * hold). Nothing is stored here; the caller commits the result or records the failure.
 *
 * @example
 * const r = await fetchChannel(channel, known, { policy, timeoutMs: 15_000, allowUnsigned: false });
 * if (r.kind === 'changed') await store.replaceAppliances(channel.id, r.feed, r.appliances);
 */
import { createHash } from 'node:crypto';
import {
  parseDescriptor,
  parseFeed,
  verifyFeedSignature,
  DEFAULT_MAX_DESCRIPTOR_BYTES,
  DEFAULT_MAX_FEED_BYTES,
} from '../../../channels/src/format/index.js';
import { MgrErr } from '../errors.js';
import type { AddressPolicy } from '../outbound/address-policy.js';
import { fetchCapped } from '../outbound/safe-fetch.js';
import type { StoredAppliance } from './channel-store.js';
import { checkFeedOrder, type FeedMark } from './feed-order.js';

/** How the channel's documents are read: over HTTP by default; the local channel reads its own folder. */
export type DocumentFetcher = (
  url: string,
  maxBytes: number,
  headers?: Record<string, string>,
) => Promise<{ body: Buffer; headers: Record<string, string | string[] | undefined>; status: number }>;

export interface FetchChannelOptions {
  readonly policy: AddressPolicy;
  readonly timeoutMs: number;
  readonly fetcher?: DocumentFetcher;
  readonly maxFeedBytes?: number;
  readonly maxDescriptorBytes?: number;
}

export interface ChannelTarget {
  readonly url: string;
  readonly publicKey: string | null;
  readonly etag: string | null;
  readonly lastModified: string | null;
  /** The feed held: a new one must not be older (feed-order.ts). */
  readonly held: FeedMark;
}

export type FetchChannelResult =
  | { readonly kind: 'unchanged' }
  | {
      readonly kind: 'changed';
      readonly feed: { title: string; sha256: string; published: string | null; etag: string | null; lastModified: string | null };
      readonly appliances: StoredAppliance[];
    };

/** The URL of a feed's detached signature: `<feed URL>.sig` (query and fragment kept off). */
export function signatureUrl(feedUrl: string): string {
  const u = new URL(feedUrl);
  u.pathname = `${u.pathname}.sig`;
  u.search = '';
  u.hash = '';
  return u.href;
}

export async function fetchChannel(
  target: ChannelTarget,
  known: ReadonlyMap<string, StoredAppliance>,
  opts: FetchChannelOptions,
): Promise<FetchChannelResult> {
  const req = { policy: opts.policy, timeoutMs: opts.timeoutMs };
  const get: DocumentFetcher =
    opts.fetcher ?? ((url, maxBytes, headers) => fetchCapped(url, maxBytes, { ...req, ...(headers ? { headers } : {}) }));
  const conditional: Record<string, string> = {};
  if (target.etag) conditional['if-none-match'] = target.etag;
  if (target.lastModified) conditional['if-modified-since'] = target.lastModified;
  const feedRes = await get(target.url, opts.maxFeedBytes ?? DEFAULT_MAX_FEED_BYTES, conditional);
  if (feedRes.status === 304) return { kind: 'unchanged' };

  if (target.publicKey) {
    const sig = await get(signatureUrl(target.url), 1024);
    verifyFeedSignature(feedRes.body, sig.body, target.publicKey);
  }
  const feed = await parseFeed(feedRes.body, { maxBytes: opts.maxFeedBytes ?? DEFAULT_MAX_FEED_BYTES });
  const sha256 = createHash('sha256').update(feedRes.body).digest('hex');
  checkFeedOrder(target.held, { published: feed.published ?? null, sha256 });
  const appliances: StoredAppliance[] = [];
  for (const item of feed.items) {
    const cached = known.get(item.descriptor.sha256);
    if (cached && cached.descriptorUrl === item.descriptor.url) {
      appliances.push(cached);
      continue;
    }
    const res = await get(
      item.descriptor.url,
      Math.min(item.descriptor.size, opts.maxDescriptorBytes ?? DEFAULT_MAX_DESCRIPTOR_BYTES),
    ).catch((err: unknown) => {
      if (MgrErr.MGR_ERR_FETCH_TOO_LARGE.is(err))
        throw MgrErr.MGR_ERR_CHANNEL_REFUSED(`descriptor of ${item.name} ${item.version} is larger than the signed feed says`);
      throw err;
    });
    const descriptor = parseDescriptor(res.body, { item, maxBytes: opts.maxDescriptorBytes ?? DEFAULT_MAX_DESCRIPTOR_BYTES });
    appliances.push({ channelId: '', descriptorUrl: item.descriptor.url, descriptorSha256: item.descriptor.sha256, descriptor });
  }
  return {
    kind: 'changed',
    feed: {
      title: feed.title,
      sha256,
      published: feed.published ?? null,
      etag: header(feedRes.headers.etag),
      lastModified: header(feedRes.headers['last-modified']),
    },
    appliances,
  };
}

const header = (v: string | string[] | undefined): string | null => (typeof v === 'string' && v.length <= 200 ? v : null);
