/** `storm move NAME --to HOST [--allow-restart]`: a cold move of an instance to another host (docs/move.md). */
import { parseCommand } from '../args.js';
import { UsageError } from '../errors.js';
import type { CommandSpec } from '../command.js';
import { formatBytes } from '../format.js';
import type { MoveAnswer } from '../views.js';
import { instancePath, stateText } from './instances.js';

export const move: CommandSpec = {
  name: 'move',
  usage: ['move NAME --to HOST [--allow-restart]'],
  summary: 'move an instance to another host (cold: its writable layers copied and verified, the source removed last)',
  details: `A stopped instance moves as it is; it keeps its name, address, MAC and guest token, so DNS, DHCP and
LDAP need no change. A running instance is refused unless --allow-restart is given: then it is
stopped, moved and started on HOST. Instances with an attached data volume and traditional
(disk-image) instances do not move yet. Every step is journaled: a failure or a manager crash
before the record switches hosts leaves it on the source as it was; after it, reconcile finishes.

options:
  --to HOST         the host to move to (its name or id; storm hosts)
  --allow-restart   a running instance: stop it, move it, start it on HOST

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
    ctx.print(
      r,
      `${r.instance.name}: moved from ${r.from} to ${r.to} (${formatBytes(r.bytes)} copied${r.restarted ? ', restarted' : ''}); ${stateText(r.instance)}`,
    );
    return 0;
  },
};
