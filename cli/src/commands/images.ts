/** `storm images`: the manager's layer cache, each file with its kind, size and the appliances that use it. */
import { parseCommand } from '../args.js';
import type { CommandSpec } from '../command.js';
import { formatBytes, relativeTime, shortHash } from '../format.js';
import { table } from '../table.js';
import type { ImageView } from '../views.js';

export const images: CommandSpec = {
  name: 'images',
  usage: ['images'],
  summary: "the manager's layer cache: each file's sha256, kind, size and the appliances that use it",
  details: 'With --json: the cached files as an array (the total is their sizes summed).\n\nexample: storm images',
  async run(ctx, args) {
    parseCommand(args, {}, { min: 0, max: 0 });
    const { images: list, totalBytes } = await ctx.api.get<{ images: ImageView[]; totalBytes: number }>('/images');
    const usedBy = (i: ImageView) => i.usedBy.map((u) => `${u.name} ${u.version}`).join(', ');
    const rows = list.map((i) => [shortHash(i.sha256), i.kind, formatBytes(i.size), relativeTime(i.cachedAt), usedBy(i)]);
    ctx.print(
      list,
      list.length
        ? `${table(['SHA256', 'KIND', 'SIZE', 'CACHED', 'USED BY'], rows)}${list.length} files, ${formatBytes(totalBytes)}`
        : 'the cache is empty; storm pull fills it',
    );
    return 0;
  },
};
