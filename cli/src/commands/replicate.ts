/** `storm replicate NAME --to HOST | --off`: each checkpoint's frozen layers kept on a second host (docs/move.md, "Replication"). */
import { parseCommand } from '../args.js';
import { UsageError } from '../errors.js';
import type { CommandSpec } from '../command.js';
import { formatBytes } from '../format.js';
import type { ReplicaView } from '../views.js';
import { instancePath } from './instances.js';
import { intervalSeconds } from './interval.js';
import { intervalText } from '../../../common/replica-interval.js';

const text = (r: ReplicaView) =>
  `${r.instance}: replica on ${r.host}${r.every === null ? '' : `, checkpointed every ${intervalText(r.every)}`}, ${r.checkpoint ? `as of checkpoint ${r.checkpoint} (${r.layers.join(', ')}; ${formatBytes(r.bytes)})` : 'nothing frozen yet: the first checkpoint is copied'}${r.error ? `\nlast copy failed: ${r.error}` : ''}`;

export const replicate: CommandSpec = {
  name: 'replicate',
  usage: ['replicate NAME --to HOST [--every INTERVAL]', 'replicate NAME --off', 'replicate NAME'],
  summary: "keep an instance's checkpoints on a second host, to restart it there if its host dies",
  details: `With --to, the instance's frozen writable layers are copied to HOST now (relayed by the manager,
checked by sha256), and again after each checkpoint (storm checkpoint NAME): only the layers HOST
lacks travel, and the guest keeps running. Nothing runs on HOST: the copy is files, no domain.
When the instance's host is declared dead (storm host declare-dead), it is restarted on HOST from
its last checkpoint; what it wrote after that checkpoint is lost. Only layered instances.
With --every, the manager also checkpoints it that often while it runs, so a restart loses at most
that much; each checkpoint freezes its writable layer, which restarts the guest.
Without an option, shows the replica; --off removes the copy and stops replicating.

options:
  --to HOST          the host that keeps the copy (its name or id; not the instance's own)
  --every INTERVAL   with --to: a checkpoint this often (90s, 15m, 1h, 2d; at least 10s);
                     without it, only the checkpoints you take
  --off              stop replicating, remove the copy

example: storm replicate web1 --to host-b --every 1h
         storm launch hello-web web2 --replicate host-b --replicate-every 1h`,
  async run(ctx, args) {
    const { values, positionals } = parseCommand(
      args,
      { to: { type: 'string' }, off: { type: 'boolean' }, every: { type: 'string' } },
      { min: 1, max: 1 },
    );
    const path = `${instancePath(positionals[0]!)}/replica`;
    if (values.to && values.off) throw new UsageError('--to and --off exclude each other');
    if (values.every !== undefined && !values.to) throw new UsageError('--every needs --to HOST');
    const every = values.every === undefined ? undefined : intervalSeconds(values.every, '--every');
    if (values.off) {
      await ctx.api.delete(path);
      ctx.print({ instance: positionals[0], replica: null }, `${positionals[0]}: replication off, its copy removed`);
      return 0;
    }
    const r = values.to
      ? await ctx.api.put<ReplicaView>(path, { to: values.to, ...(every === undefined ? {} : { every }) })
      : await ctx.api.get<ReplicaView>(path);
    ctx.print(r, text(r));
    return 0;
  },
};
