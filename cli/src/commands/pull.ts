/** `storm pull NAME[@VERSION]`: pull an appliance into the manager's cache with a progress bar. */
import { parseRef, resolveAppliance } from '../appliance-ref.js';
import { parseCommand } from '../args.js';
import type { CommandSpec } from '../command.js';
import { formatBytes } from '../format.js';
import { PullBar, watchEvents } from '../pull-progress.js';
import type { PullResult } from '../views.js';

export const pull: CommandSpec = {
  name: 'pull',
  usage: ['pull NAME[@VERSION]'],
  summary: 'pull an appliance (newest version by default) into the cache, with a progress bar',
  details: 'Every layer is streamed, hashed and renamed into place only when its sha256 matches.\n\nexample: storm pull hello-web@1.1.0',
  async run(ctx, args) {
    const { positionals } = parseCommand(args, {}, { min: 1, max: 1 });
    const appliance = await resolveAppliance(ctx, parseRef(positionals[0]));
    const path = `/appliances/${appliance.name}/${encodeURIComponent(appliance.version)}/pull?channel=${encodeURIComponent(appliance.channelId)}`;
    if (ctx.json) {
      ctx.print(await ctx.api.post<PullResult>(path), '');
      return 0;
    }
    const bar = new PullBar(ctx.err, appliance);
    const watch = await watchEvents(ctx, ['pull'], (e) => bar.handle(e));
    try {
      const result = await ctx.api.post<PullResult>(path);
      bar.finish(
        result.downloadedBytes === 0
          ? `already cached (${formatBytes(result.bytes)})`
          : `pulled ${formatBytes(result.downloadedBytes)} in ${result.files} files, verified`,
      );
      return 0;
    } finally {
      await watch.close();
    }
  },
};
