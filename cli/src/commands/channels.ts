/** `storm channel add URL --key FILE | ls | refresh ID | rm ID` and `storm appliances [NAME[@VERSION]]`. */
import { readFileSync } from 'node:fs';
import { parseRef, resolveAppliance } from '../appliance-ref.js';
import { parseCommand } from '../args.js';
import type { CommandSpec } from '../command.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { fields, formatBytes, mib, relativeTime, shortHash } from '../format.js';
import { describeParams } from '../params.js';
import { table } from '../table.js';
import type { ApplianceView, ChannelList, ChannelView } from '../views.js';

export const channel: CommandSpec = {
  name: 'channel',
  usage: ['channel add URL --key FILE', 'channel ls', 'channel refresh ID', 'channel rm ID'],
  summary: "subscribe to appliance channels (pinning the publisher's key), list, refresh, unsubscribe",
  details: `  add URL --key FILE   subscribe; FILE is the publisher's public key (storm-channel keygen made it)
  ls                   subscriptions with status and last refresh (also: storm channel)
  refresh ID           fetch the feed now; exit status 1 when it failed
  rm ID                unsubscribe

example: storm channel add https://apps.example/channel.xml --key publisher.pub`,
  async run(ctx, args) {
    const [sub, ...rest] = args;
    switch (sub) {
      case 'add':
        return add(ctx, rest);
      case 'ls':
      case undefined:
        return list(ctx, rest);
      case 'refresh': {
        const { positionals } = parseCommand(rest, {}, { min: 1, max: 1 });
        const ch = await ctx.api.post<ChannelView>(`/channels/${encodeURIComponent(positionals[0]!)}/refresh`);
        ctx.print(ch, `${ch.id}: ${ch.status}${ch.lastError ? ` (${ch.lastError})` : ''}`);
        return ch.status === 'failed' ? 1 : 0;
      }
      case 'rm': {
        const { positionals } = parseCommand(rest, {}, { min: 1, max: 1 });
        await ctx.api.delete(`/channels/${encodeURIComponent(positionals[0]!)}`);
        ctx.print({ id: positionals[0], removed: true }, `unsubscribed ${positionals[0]}`);
        return 0;
      }
      default:
        throw new UsageError(`unknown channel command ${JSON.stringify(sub)}`);
    }
  },
};

async function add(ctx: CliContext, args: readonly string[]): Promise<number> {
  const { values, positionals } = parseCommand(args, { key: { type: 'string' } }, { min: 1, max: 1 });
  const publicKey = values.key ? readFileSync(values.key, 'utf8') : undefined;
  const ch = await ctx.api.post<ChannelView>('/channels', publicKey ? { url: positionals[0], publicKey } : { url: positionals[0] });
  ctx.print(ch, `subscribed ${ch.id}: ${ch.title ?? ch.url} (${ch.status})`);
  return 0;
}

async function list(ctx: CliContext, args: readonly string[]): Promise<number> {
  parseCommand(args, {}, { min: 0, max: 0 });
  const { channels } = await ctx.api.get<ChannelList>('/channels');
  const rows = channels.map((c) => [c.id, c.status, c.signed ? 'yes' : 'no', c.title, c.url, relativeTime(c.lastRefresh), c.lastError]);
  ctx.print(
    channels,
    channels.length
      ? table(['ID', 'STATUS', 'SIGNED', 'TITLE', 'URL', 'LAST REFRESH', 'LAST ERROR'], rows)
      : 'no channels; storm channel add URL --key FILE subscribes',
  );
  return 0;
}

export const appliances: CommandSpec = {
  name: 'appliances',
  usage: ['appliances', 'appliances NAME[@VERSION]'],
  summary: "the catalog: every appliance version with size and cache state; with NAME, one version's layers and parameters",
  details: 'With NAME and no @VERSION: the newest version.\n\nexamples:\n  storm appliances\n  storm appliances hello-web@1.1.0',
  async run(ctx, args) {
    const { positionals } = parseCommand(args, {}, { min: 0, max: 1 });
    if (positionals[0]) {
      const a = await resolveAppliance(ctx, parseRef(positionals[0]));
      ctx.print(a, describeAppliance(a));
      return 0;
    }
    const { appliances: list } = await ctx.api.get<{ appliances: readonly ApplianceView[] }>('/appliances');
    const rows = list.map((a) => [a.name, a.version, a.title, formatBytes(a.size), mib(a.memoryMiB), a.cached ? 'yes' : 'no']);
    ctx.print(
      list,
      list.length ? table(['NAME', 'VERSION', 'TITLE', 'SIZE', 'MEMORY', 'CACHED'], rows) : 'no appliances; subscribe to a channel first',
    );
    return 0;
  },
};

function describeAppliance(a: ApplianceView): string {
  const head = fields([
    ['appliance', `${a.name} ${a.version}: ${a.title}`],
    ['channel', a.channelId],
    ['description', a.description],
    ['upgrades from', a.upgradesFrom],
    ['resources', `${mib(a.memoryMiB)}, ${a.vcpus} vCPU${a.vcpus === 1 ? '' : 's'}`],
    ['size', `${formatBytes(a.size)}, ${a.cached ? 'cached' : 'not cached'}`],
  ]);
  const layers = table(
    ['ROLE', 'KIND', 'SHA256', 'SIZE', 'CACHED'],
    a.layers.map((l) => [l.role, l.kind, shortHash(l.sha256), formatBytes(l.size), l.cached ? 'yes' : 'no']),
  );
  return `${head}\nfiles, in descriptor order (layers bottom to top):\n${layers}\n${describeParams(a.parameters, `${a.name} ${a.version}`)}`;
}
