/**
 * `storm network`: the appliance network, its uplink and the forwards through it (`/api/v1/network`,
 * `/api/v1/network/uplink`); `storm network forward ls | add PROTOCOL PORT INSTANCE:PORT | rm PROTOCOL PORT`.
 */
import { parseCommand } from '../args.js';
import type { CommandSpec } from '../command.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { serviceCall } from '../service-api.js';
import { table } from '../table.js';
import type { ForwardList, ForwardView, NetworkView, UplinkView } from '../views.js';

const WHAT = 'the uplink';

function forwardTable(forwards: readonly ForwardView[]): string {
  return table(
    ['PROTOCOL', 'PORT', 'INSTANCE', 'ADDRESS', 'TARGET PORT', 'ACTIVE'],
    forwards.map((f) => [f.protocol, f.port, f.instance, f.address, f.targetPort, f.active ? 'yes' : 'no']),
  );
}

function uplinkLine(u: UplinkView): string {
  if (u.mode === 'none') return 'none: guests have no way out (storm-manager --uplink nat opens one)';
  const where = `table ${u.table} on ${u.bridge}`;
  return u.state === 'failed'
    ? `nat: FAILED (${u.error ?? 'no reason given'}; ${where})`
    : `nat: ${u.state}, masquerading ${u.network} out through the host's route (${where})`;
}

async function show(ctx: CliContext): Promise<number> {
  const net = await serviceCall('the appliance network', () => ctx.api.get<NetworkView>('/network'));
  const uplink = await serviceCall(WHAT, () => ctx.api.get<UplinkView>('/network/uplink'));
  const n = net.network;
  const lines = [
    `network   ${n ? `${n.cidr}, manager ${n.managerAddress}, router ${n.router ?? 'none'}${n.pool ? `, pool ${n.pool.start}-${n.pool.end}` : ''}` : 'none (no --network: instances get no address)'}`,
    `domain    ${net.domain}`,
    `uplink    ${uplinkLine(uplink)}`,
    '',
    uplink.forwards.length
      ? forwardTable(uplink.forwards).trimEnd()
      : `no forwards${uplink.mode === 'nat' ? ' (storm network forward add TCP PORT INSTANCE:PORT opens one)' : ''}`,
  ];
  ctx.print({ ...net, uplink }, `${lines.join('\n')}\n`);
  return 0;
}

function protocolOf(word: string): 'tcp' | 'udp' {
  const p = word.toLowerCase();
  if (p !== 'tcp' && p !== 'udp') throw new UsageError(`protocol must be TCP or UDP, got ${JSON.stringify(word)}`);
  return p;
}

function portOf(word: string, what: string): number {
  const n = /^\d{1,5}$/.test(word) ? Number(word) : NaN;
  if (!(n >= 1 && n <= 65535)) throw new UsageError(`${what} must be a port from 1 to 65535, got ${JSON.stringify(word)}`);
  return n;
}

async function forward(ctx: CliContext, args: readonly string[]): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'ls':
    case undefined: {
      parseCommand(rest, {}, { min: 0, max: 0 });
      const { forwards } = await serviceCall(WHAT, () => ctx.api.get<ForwardList>('/network/forwards'));
      ctx.print(forwards, forwards.length ? forwardTable(forwards) : 'no forwards\n');
      return 0;
    }
    case 'add': {
      const { positionals } = parseCommand(rest, {}, { min: 3, max: 3 });
      const [proto, port, target] = positionals as [string, string, string];
      const at = target.lastIndexOf(':');
      if (at <= 0) throw new UsageError(`expected INSTANCE:PORT, got ${JSON.stringify(target)}`);
      const body = {
        protocol: protocolOf(proto),
        port: portOf(port, 'PORT'),
        instance: target.slice(0, at),
        targetPort: portOf(target.slice(at + 1), 'the instance’s port'),
      };
      const f = await serviceCall(WHAT, () => ctx.api.post<ForwardView>('/network/forwards', body));
      ctx.print(f, `forwarding ${f.protocol} ${f.port} to ${f.instance}:${f.targetPort} (${f.address ?? 'no address'})\n`);
      return 0;
    }
    case 'rm': {
      const { positionals } = parseCommand(rest, {}, { min: 2, max: 2 });
      const protocol = protocolOf(positionals[0]!);
      const port = portOf(positionals[1]!, 'PORT');
      await serviceCall(WHAT, () => ctx.api.delete(`/network/forwards/${protocol}/${port}`));
      ctx.print({ protocol, port, removed: true }, `removed the forward of ${protocol} ${port}\n`);
      return 0;
    }
    default:
      throw new UsageError(`unknown network forward command ${JSON.stringify(sub)}`);
  }
}

export const network: CommandSpec = {
  name: 'network',
  usage: ['network', 'network forward ls', 'network forward add PROTOCOL PORT INSTANCE:PORT', 'network forward rm PROTOCOL PORT'],
  summary: 'the appliance network, its uplink and the forwards through it',
  details: `  (nothing)                      the network, the manager's address, the uplink (none or nat) and the forwards
  forward ls                     every forward: host port, instance, its address and port, whether loaded
  forward add PROTOCOL PORT INSTANCE:PORT
                                 let the outside reach INSTANCE's PORT at the host's PORT (TCP or UDP);
                                 needs storm-manager --uplink nat; follows the instance's address, goes with it
  forward rm PROTOCOL PORT       close it again

examples:
  storm network
  storm network forward add TCP 8080 web1:80
  storm network forward rm tcp 8080`,
  async run(ctx, args) {
    const [sub, ...rest] = args;
    if (sub === undefined) return show(ctx);
    if (sub === 'forward' || sub === 'forwards') return forward(ctx, rest);
    throw new UsageError(`unknown network command ${JSON.stringify(sub)}`);
  },
};
