/**
 * Channel subscriptions: subscribe (pinning the publisher key), refresh on demand and in the
 * background, unsubscribe. A broken feed or descriptor marks only its own channel failed, with the
 * reason; what was known before stays as it was.
 *
 * @example
 * const channels = new ChannelService({ store, bus, fetch: { policy, timeoutMs: 15_000 }, allowUnsigned: false, pollIntervalMs: 300_000 });
 * const ch = await channels.subscribe({ url, publicKey });
 * channels.startPolling();
 */
import { readPublicKey } from '../../../channels/src/format/index.js';
import { errorMessage, StormError } from '../../../common/errors.js';
import type { ChannelView } from '../../protocol/index.js';
import { MgrErr } from '../errors.js';
import type { EventBus } from '../events/bus.js';
import { newId } from '../ids.js';
import { checkUrl } from '../outbound/safe-fetch.js';
import type { ChannelRow, ChannelStore } from './channel-store.js';
import { type DocumentFetcher, fetchChannel, type FetchChannelOptions } from './fetch-channel.js';

/** The manager's own channel of packaged appliances: its id and the URL it is listed under. */
export const LOCAL_CHANNEL_ID = 'ch-local';
export const LOCAL_CHANNEL_URL = 'local:packages';

export interface ChannelServiceOptions {
  readonly store: ChannelStore;
  /** The manager's own channel of packaged appliances (read from its folder, not fetched). */
  readonly local?: { readonly feedUrl: string; readonly fetcher: DocumentFetcher; publicKey(): Promise<string> };
  readonly bus: EventBus;
  readonly fetch: FetchChannelOptions;
  readonly allowUnsigned: boolean;
  readonly pollIntervalMs: number;
}

/** The API shape of a channel. */
export function channelView(r: ChannelRow): ChannelView {
  return {
    id: r.id,
    url: r.url,
    title: r.title,
    signed: r.public_key !== null,
    status: r.status,
    lastRefresh: r.last_refresh,
    lastError: r.last_error,
    createdAt: r.created_at,
  };
}

/** `CODE: message` of a failure, so the stored reason keeps the precise cause. */
function reason(err: unknown): string {
  return err instanceof StormError ? `${err.code}: ${err.message}` : errorMessage(err);
}

export class ChannelService {
  private timer: NodeJS.Timeout | undefined;
  private readonly running = new Map<string, Promise<ChannelView>>();

  constructor(private readonly opts: ChannelServiceOptions) {}

  async subscribe(input: { url: string; publicKey?: string | null }): Promise<ChannelView> {
    checkUrl(input.url, this.opts.fetch.policy);
    const publicKey = input.publicKey?.trim() || null;
    if (publicKey) {
      try {
        readPublicKey(publicKey);
      } catch (err) {
        throw MgrErr.MGR_ERR_VALIDATION(`publicKey: ${errorMessage(err)}`);
      }
    } else if (!this.opts.allowUnsigned) {
      throw MgrErr.MGR_ERR_VALIDATION('publicKey is required (the manager runs without --allow-unsigned-channels)');
    }
    if (await this.opts.store.byUrl(input.url)) throw MgrErr.MGR_ERR_CONFLICT(`already subscribed to ${input.url}`);
    const id = newId('ch');
    await this.opts.store.insert({ id, url: input.url, publicKey });
    try {
      const view = await this.refreshNow(id);
      if (view.status === 'failed') throw MgrErr.MGR_ERR_CHANNEL_REFUSED(view.lastError ?? 'first refresh failed');
      this.opts.bus.publish('channel.subscribed', { id, url: input.url });
      return view;
    } catch (err) {
      // A channel whose first fetch fails is not kept: the administrator sees why and nothing lingers.
      await this.opts.store.remove(id);
      throw err;
    }
  }

  /** Subscribes the manager to its own channel of packages (once), then refreshes it. */
  async refreshLocal(): Promise<ChannelView> {
    if (!this.opts.local) throw MgrErr.MGR_ERR_UNAVAILABLE('no local channel');
    if (!(await this.opts.store.get(LOCAL_CHANNEL_ID)))
      await this.opts.store.insert({ id: LOCAL_CHANNEL_ID, url: LOCAL_CHANNEL_URL, publicKey: await this.opts.local.publicKey() });
    return this.refresh(LOCAL_CHANNEL_ID);
  }

  async list(): Promise<ChannelView[]> {
    return (await this.opts.store.list()).map(channelView);
  }

  async get(id: string): Promise<ChannelView> {
    const row = await this.opts.store.get(id);
    if (!row) throw MgrErr.MGR_ERR_NOT_FOUND(`channel ${id}`);
    return channelView(row);
  }

  async remove(id: string): Promise<void> {
    if (!(await this.opts.store.remove(id))) throw MgrErr.MGR_ERR_NOT_FOUND(`channel ${id}`);
    this.opts.bus.publish('channel.removed', { id });
  }

  /** Refreshes one channel; concurrent calls for the same channel share one refresh. */
  refresh(id: string): Promise<ChannelView> {
    let run = this.running.get(id);
    if (!run) {
      run = this.refreshNow(id).finally(() => this.running.delete(id));
      this.running.set(id, run);
    }
    return run;
  }

  private async refreshNow(id: string): Promise<ChannelView> {
    const row = await this.opts.store.get(id);
    if (!row) throw MgrErr.MGR_ERR_NOT_FOUND(`channel ${id}`);
    try {
      const known = await this.opts.store.knownDescriptors(id);
      const local = id === LOCAL_CHANNEL_ID ? this.opts.local : undefined;
      const target = {
        url: local ? local.feedUrl : row.url,
        publicKey: row.public_key,
        etag: local ? null : row.etag,
        lastModified: local ? null : row.last_modified,
        held: { published: row.feed_published, sha256: row.feed_sha256 },
      };
      const result = await fetchChannel(target, known, local ? { ...this.opts.fetch, fetcher: local.fetcher } : this.opts.fetch);
      if (result.kind === 'unchanged') {
        await this.opts.store.markUnchanged(id);
      } else {
        await this.opts.store.replaceAppliances(
          id,
          result.feed,
          result.appliances.map((a) => ({ ...a, channelId: id })),
        );
        this.opts.bus.publish('channel.refreshed', { id, appliances: result.appliances.length });
      }
    } catch (err) {
      await this.opts.store.markFailed(id, reason(err));
      this.opts.bus.publish('channel.failed', { id, error: reason(err) });
    }
    return this.get(id);
  }

  /** Refreshes every channel now and then every `pollIntervalMs`; one failing channel never stops the others. */
  startPolling(): void {
    if (this.timer || this.opts.pollIntervalMs <= 0) return;
    const tick = async () => {
      for (const ch of await this.opts.store.list().catch(() => [])) await this.refresh(ch.id).catch(() => undefined);
    };
    this.timer = setInterval(() => void tick(), this.opts.pollIntervalMs);
    this.timer.unref();
  }

  stopPolling(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Waits for refreshes under way (for a clean shutdown). */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.running.values()]);
  }
}
