/** `storm move NAME --to HOST [--allow-restart]`: an instance moved to another host, live when it runs (docs/move.md). */
import { parseCommand } from '../args.js';
import { UsageError } from '../errors.js';
import type { CommandSpec } from '../command.js';
import { formatBytes } from '../format.js';
import type { MoveAnswer } from '../views.js';
import { instancePath, stateText } from './instances.js';

export const move: CommandSpec = {
  name: 'move',
  usage: ['move NAME --to HOST [--allow-restart]'],
  summary: 'move an instance to another host (live when it runs, else cold: its writable layers copied and verified)',
  details: `A stopped instance moves cold, as it is; it keeps its name, address, MAC and guest token, so DNS,
DHCP and LDAP need no change. A running instance moves live, never stopped (libvirt migrates its
memory and writable layer), when HOST takes live moves (its stormd has --migration-uri; storm host
show) and the instance has no frozen writable layers. Otherwise it is refused with the reason,
unless --allow-restart is given: then it is stopped, moved cold and started on HOST. Instances with
an attached data volume and traditional (disk-image) instances do not move yet. Every step is
journaled: a failure or a manager crash before the point of no return (the record switching hosts;
a live migration that got through) leaves it on the source as it was; after it, reconcile finishes.

options:
  --to HOST         the host to move to (its name or id; storm hosts)
  --allow-restart   a running instance that cannot move live: stop it, move it cold, start it on HOST

example: storm move web1 --to host-b`,
  async run(ctx, args) {
    const { values, positionals } = parseCommand(
      args,
      { to: { type: 'string' }, 'allow-restart': { type: 'boolean' } },
      { min: 1, max: 1 },
    );
    if (!values.to) throw new UsageError('--to HOST is required');
    const body = { to: values.to, ...(values['allow-restart'] ? { allowRestart: true } : {}) };
    const r = await ctx.api.post<MoveAnswer>(`${instancePath(positionals[0]!)}/move`, body);
    const how = r.live
      ? `live${r.downtimeMs === null ? '' : `, paused ${r.downtimeMs} ms`}`
      : `${formatBytes(r.bytes)} copied${r.restarted ? ', restarted' : ''}`;
    ctx.print(r, `${r.instance.name}: moved from ${r.from} to ${r.to} (${how}); ${stateText(r.instance)}`);
    return 0;
  },
};
