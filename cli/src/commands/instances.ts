/** `storm ls`, `storm show NAME`, `storm start|stop|reboot NAME` and `storm rm NAME`. */
import { parseCommand } from '../args.js';
import type { CommandSpec } from '../command.js';
import type { CliContext } from '../context.js';
import { fields, formatBytes, mib, relativeTime, shortHash } from '../format.js';
import { assertConfirmable, confirm } from '../prompt.js';
import { allPages } from '../paged.js';
import { table } from '../table.js';
import type { InstanceView } from '../views.js';

export const instancePath = (name: string): string => `/instances/${encodeURIComponent(name)}`;

/** `running`, or `stopped (wants running)` while the instance is not where it was told to be. */
export function stateText(i: Pick<InstanceView, 'state' | 'desired'>): string {
  const settled = i.state === 'running' || i.state === 'stopped';
  return settled && i.state !== i.desired ? `${i.state} (wants ${i.desired})` : i.state;
}

export const address = (i: Pick<InstanceView, 'ip' | 'fqdn'>): string | undefined =>
  i.ip && i.fqdn ? `${i.ip} (${i.fqdn})` : (i.ip ?? i.fqdn ?? undefined);

export const ls: CommandSpec = {
  name: 'ls',
  usage: ['ls'],
  summary: 'list instances with their state, host, address and appliance',
  details: 'example: storm ls --json',
  async run(ctx, args) {
    parseCommand(args, {}, { min: 0, max: 0 });
    const instances = await allPages<InstanceView>(ctx.api, '/instances', 'instances');
    // One word per cell: the IP when leased, else the DNS name.
    const rows = instances.map((i) => [
      i.name,
      stateText(i),
      i.host?.name,
      i.ip ?? i.fqdn,
      `${i.appliance} ${i.version}`,
      mib(i.memoryMiB),
      relativeTime(i.createdAt),
    ]);
    ctx.print(
      instances,
      instances.length ? table(['NAME', 'STATE', 'HOST', 'ADDRESS', 'APPLIANCE', 'MEMORY', 'CREATED'], rows) : 'no instances',
    );
    return 0;
  },
};

/** The human form of one instance: identity, placement, parameters, the layer stack, guest status. */
export function describeInstance(i: InstanceView, now = Date.now()): string {
  const params = Object.entries(i.params).map(([k, v]) => `${k}=${String(v)}`);
  const head = fields([
    ['name', `${i.name} (${i.id})`],
    ['appliance', `${i.appliance} ${i.version}${i.channelId ? ` from ${i.channelId}` : ''}`],
    ['state', `${i.state} (desired ${i.desired})`],
    ['host', i.host ? `${i.host.name} (${i.host.id})` : undefined],
    ['address', address(i)],
    ['mac', i.mac],
    ['resources', `${mib(i.memoryMiB)}, ${i.vcpus} vCPU${i.vcpus === 1 ? '' : 's'}`],
    ['parameters', params.join(', ')],
    ['created', relativeTime(i.createdAt, now)],
    ['updated', relativeTime(i.updatedAt, now)],
    ['last error', i.lastError],
  ]);
  const layers = table(
    ['#', 'KIND', 'SHA256', 'SIZE', 'MODE'],
    i.layers.map((l, n) => [
      n + 1,
      l.kind,
      shortHash(l.sha256),
      l.size === null ? undefined : formatBytes(l.size),
      l.writable ? 'rw' : 'ro',
    ]),
  );
  const boot = `boot: kernel ${shortHash(i.boot.kernel) ?? '-'}, initrd ${shortHash(i.boot.initrd) ?? '-'}\n`;
  return `${head}\nlayers, bottom to top:\n${layers}${boot}\nguest status: ${describeGuest(i.guestStatus)}`;
}

function describeGuest(status: unknown): string {
  if (status === null || status === undefined) return 'not reported yet\n';
  if (typeof status !== 'object' || Array.isArray(status)) return `${JSON.stringify(status)}\n`;
  const rows = Object.entries(status).map(([k, v]): [string, string] => [
    k,
    typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v),
  ]);
  return rows.length ? `\n${fields(rows, '  ')}` : 'reported, empty\n';
}

export const show: CommandSpec = {
  name: 'show',
  usage: ['show NAME'],
  summary: 'one instance: state, host, address, parameters, the layer stack bottom to top, guest status',
  details: 'NAME is the instance name or id.\n\nexample: storm show web1',
  async run(ctx, args) {
    const { positionals } = parseCommand(args, {}, { min: 1, max: 1 });
    const view = await ctx.api.get<InstanceView>(instancePath(positionals[0]!));
    ctx.print(view, describeInstance(view));
    return 0;
  },
};

function action(name: 'start' | 'stop' | 'reboot', summary: string): CommandSpec {
  return {
    name,
    usage: [`${name} NAME`],
    summary,
    details: `Waits for the host to answer and prints the state that follows.\n\nexample: storm ${name} web1`,
    async run(ctx, args) {
      const { positionals } = parseCommand(args, {}, { min: 1, max: 1 });
      const view = await ctx.api.post<InstanceView>(`${instancePath(positionals[0]!)}/actions`, { action: name });
      ctx.print(view, `${view.name}: ${stateText(view)}${view.host ? ` on ${view.host.name}` : ''}`);
      return 0;
    },
  };
}

export const start = action('start', 'start a stopped instance');
export const stop = action('stop', 'stop an instance (graceful shutdown, forced after the timeout)');
export const reboot = action('reboot', 'reboot an instance');

export const rm: CommandSpec = {
  name: 'rm',
  usage: ['rm NAME [--yes]'],
  summary: 'destroy an instance: its domain, its writable layer and its record',
  details: `Asks for confirmation on a terminal; when stdin is not a terminal, --yes is required.

  -y, --yes   do not ask

example: storm rm web1 --yes`,
  async run(ctx, args) {
    const { values, positionals } = parseCommand(args, { yes: { type: 'boolean', short: 'y' } }, { min: 1, max: 1 });
    return removeInstance(ctx, positionals[0]!, values.yes === true);
  },
};

async function removeInstance(ctx: CliContext, name: string, yes: boolean): Promise<number> {
  const what = `storm rm ${name}`;
  assertConfirmable(ctx, yes, what);
  const view = await ctx.api.get<InstanceView>(instancePath(name));
  await confirm(ctx, {
    yes,
    what,
    question: `Destroy ${view.name} (${view.appliance} ${view.version}${view.host ? ` on ${view.host.name}` : ''}) and its writable layer?`,
  });
  await ctx.api.delete(instancePath(view.id));
  ctx.print({ id: view.id, name: view.name, destroyed: true }, `destroyed ${view.name}`);
  return 0;
}
