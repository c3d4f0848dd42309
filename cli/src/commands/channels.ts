/** `storm channel add URL --key FILE | ls | refresh ID | rm ID` and `storm appliances`. */
import { readFileSync } from 'node:fs';
import type { CliContext } from '../context.js';
import { UsageError } from '../context.js';
import { formatBytes } from '../progress-bar.js';
import { table } from '../table.js';

interface ChannelView {
  id: string;
  url: string;
  title: string | null;
  status: string;
  lastRefresh: string | null;
  lastError: string | null;
}

export async function channel(ctx: CliContext, args: readonly string[]): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'add': {
      const url = rest[0];
      const keyFlag = rest.indexOf('--key');
      if (!url) throw new UsageError('usage: storm channel add URL --key PUBLISHER.pub');
      const publicKey = keyFlag >= 0 && rest[keyFlag + 1] ? readFileSync(rest[keyFlag + 1]!, 'utf8') : undefined;
      const ch = await ctx.api.post<ChannelView>('/channels', publicKey ? { url, publicKey } : { url });
      ctx.print(ch, `subscribed ${ch.id}: ${ch.title ?? ch.url} (${ch.status})`);
      return 0;
    }
    case 'ls':
    case undefined: {
      const { channels } = await ctx.api.get<{ channels: ChannelView[] }>('/channels');
      ctx.print(channels, table(['ID', 'STATUS', 'TITLE', 'URL', 'LAST REFRESH', 'LAST ERROR'], channels.map((c) => [c.id, c.status, c.title, c.url, c.lastRefresh, c.lastError])));
      return 0;
    }
    case 'refresh': {
      if (!rest[0]) throw new UsageError('usage: storm channel refresh ID');
      const ch = await ctx.api.post<ChannelView>(`/channels/${rest[0]}/refresh`);
      ctx.print(ch, `${ch.id}: ${ch.status}${ch.lastError ? ` (${ch.lastError})` : ''}`);
      return ch.status === 'failed' ? 1 : 0;
    }
    case 'rm': {
      if (!rest[0]) throw new UsageError('usage: storm channel rm ID');
      await ctx.api.delete(`/channels/${rest[0]}`);
      ctx.print({ removed: rest[0] }, `unsubscribed ${rest[0]}`);
      return 0;
    }
    default:
      throw new UsageError(`unknown channel command ${sub}; try add, ls, refresh, rm`);
  }
}

export async function appliances(ctx: CliContext): Promise<number> {
  const { appliances: list } = await ctx.api.get<{ appliances: { name: string; version: string; title: string; size: number; cached: boolean; memoryMiB: number }[] }>('/appliances');
  ctx.print(list, table(['NAME', 'VERSION', 'TITLE', 'SIZE', 'MEMORY', 'CACHED'], list.map((a) => [a.name, a.version, a.title, formatBytes(a.size), `${a.memoryMiB} MiB`, a.cached ? 'yes' : 'no'])));
  return 0;
}
