/**
 * `storm hosts` and `storm host token|tokens|show|rm|pki-bundle|drain|undrain|evacuate|fence|declare-dead`:
 * enrolment, capacity, health, revocation, libvirt PKI, draining and fencing (host-fencing.ts).
 */
import { intFlag, parseCommand } from '../args.js';
import type { CommandSpec } from '../command.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { fields, mib, relativeTime } from '../format.js';
import { assertConfirmable, confirm } from '../prompt.js';
import { allPages } from '../paged.js';
import { table } from '../table.js';
import type { HostView, InstanceView, TokenCreated, TokenView } from '../views.js';
import { declareDead, drain, evacuate, fence, undrain } from './host-fencing.js';
import { pkiBundle } from './pki-bundle.js';

export const hostPath = (host: string): string => `/hosts/${encodeURIComponent(host)}`;

/** The status with `, drained` when the administrator drained a host (a dead one is drained by definition). */
const statusOf = (h: HostView): string => (h.drained && h.status !== 'dead' ? `${h.status}, drained` : h.status);

/** `4.0 GiB free of 8.0 GiB` style capacity, `-` before the first heartbeat. */
const capacity = (h: HostView): string | undefined =>
  h.memoryMiB === null ? undefined : `${mib(h.freeMemoryMiB) ?? '?'} free of ${mib(h.memoryMiB)}`;

export const hosts: CommandSpec = {
  name: 'hosts',
  usage: ['hosts'],
  summary: 'enrolled hosts: status, capacity, instances, hypervisor, last heartbeat; why a degraded or unreachable host is',
  details: `A host is degraded when it heartbeats but one of its own checks fails (libvirt, store-access,
kvm, define-time): it takes no launches until the check passes again. The reasons are listed under
the table; storm doctor says what to do. A drained host shows "ready, drained" (placement never
picks it); a host declared dead shows "dead" until storm host undrain.

example: storm hosts --json`,
  async run(ctx, args) {
    parseCommand(args, {}, { min: 0, max: 0 });
    const [{ hosts: list }, instances] = await Promise.all([
      ctx.api.get<{ hosts: HostView[] }>('/hosts'),
      allPages<InstanceView>(ctx.api, '/instances', 'instances'),
    ]);
    const count = (id: string) => instances.filter((i) => i.host?.id === id).length;
    const rows = list.map((h) => [
      h.name,
      statusOf(h),
      h.cpus,
      capacity(h),
      mib(h.allocatedMemoryMiB),
      count(h.id),
      h.hypervisor.uri,
      relativeTime(h.lastHeartbeat),
    ]);
    // Why a host takes no launches, under the table: the reasons are sentences, too long for a column.
    const why = list
      .filter((h) => (h.status === 'degraded' || h.status === 'unreachable') && h.lastError && !h.deadAt)
      .map((h) => `${h.name} is ${h.status}: ${h.lastError}`);
    const text = `${table(['NAME', 'STATUS', 'CPUS', 'MEMORY', 'ALLOCATED', 'INSTANCES', 'HYPERVISOR', 'HEARTBEAT'], rows)}${why.length ? `\n${why.join('\n')}\n(storm doctor says what to do)\n` : ''}`;
    ctx.print(list, list.length ? text : 'no hosts; storm host token makes the command that enrols one');
    return 0;
  },
};

const HOST_USAGE = [
  'host token [--ttl SECONDS]',
  'host tokens',
  'host show HOST',
  'host rm HOST [--yes]',
  'host pki-bundle HOST --out DIR [--force]',
  'host drain HOST',
  'host undrain HOST',
  'host evacuate HOST [--allow-restart]',
  'host fence HOST [--timeout SECONDS] -- COMMAND [ARG…]',
  'host fence HOST --clear',
  'host declare-dead HOST [--yes]',
];

export const host: CommandSpec = {
  name: 'host',
  usage: HOST_USAGE,
  summary:
    'enrol (a single-use token and the exact command), inspect, revoke, drain, evacuate or declare dead a host; its libvirt PKI bundle',
  details: `  token          a single-use enrolment token and the command to run on the new host
                 (--ttl SECONDS: how long it stays valid, default 3600, at most 604800)
  tokens         the enrolment tokens made so far, used or not
  show HOST      one host (id or name): status, capacity, hypervisor, last error, and the
                 checks of its last heartbeat (ok, fail with what to do, skip)
  rm HOST        revoke the host's certificate; it drops out of placement (asks first; --yes on a non-terminal)
  pki-bundle     libvirt's qemu+tls:// files for the host into DIR (0700): cacert.pem, cacrl.pem,
                 servercert.pem, clientcert.pem (0644), serverkey.pem, clientkey.pem (0600);
                 refuses to replace existing files without --force. --json prints the files and
                 serials, never the keys.
  drain HOST     placement never picks it again (not even a pin) until undrain; its instances stay
  undrain HOST   placement may pick it again. A dead host is undrained only once it answers again:
                 its stale domains are removed first, and it is no longer dead
  evacuate HOST  drain it, then move every instance off it, one at a time, to hosts placement picks
                 (live where it can; --allow-restart lets a running one stop, move cold and start);
                 prints moved, skipped and failed instances; exit 1 when one failed. Again takes the rest
  fence HOST -- COMMAND [ARG…]
                 the command the manager runs (as itself, no shell, the host in STORM_HOST_ID,
                 STORM_HOST_NAME, STORM_HOST_URL) before declaring the host dead; --timeout SECONDS
                 (default 30, at most 600); --clear removes it
  declare-dead HOST
                 the administrator's fence (asks first; --yes on a non-terminal): runs the fence
                 command (its failure stops here, with its output); without one, only an unreachable
                 host can be declared dead. The host is then dead and drained; instances with a copy
                 elsewhere are listed as recoverable, the rest become lost, each with what was lost.
                 If it comes back, its domains are removed, never started

examples:
  storm host token --ttl 600
  storm host pki-bundle host-a --out ./host-a-pki
  storm host evacuate host-a --allow-restart
  storm host fence host-b --timeout 60 -- ipmitool -I lanplus -H bmc-b -U admin -f /etc/storm/bmc-b.pw chassis power off
  storm host declare-dead host-b`,
  async run(ctx, args) {
    const [sub, ...rest] = args;
    switch (sub) {
      case 'token':
        return token(ctx, rest);
      case 'tokens':
        return tokens(ctx, rest);
      case 'show':
        return showHost(ctx, rest);
      case 'rm':
        return removeHost(ctx, rest);
      case 'pki-bundle':
        return pkiBundle(ctx, rest);
      case 'drain':
        return drain(ctx, rest);
      case 'undrain':
        return undrain(ctx, rest);
      case 'evacuate':
        return evacuate(ctx, rest);
      case 'fence':
        return fence(ctx, rest);
      case 'declare-dead':
        return declareDead(ctx, rest);
      default:
        throw new UsageError(sub ? `unknown host command ${JSON.stringify(sub)}` : 'which host command?');
    }
  },
};

async function token(ctx: CliContext, args: readonly string[]): Promise<number> {
  const { values } = parseCommand(args, { ttl: { type: 'string' } }, { min: 0, max: 0 });
  const ttlSeconds = intFlag(values.ttl, 'ttl', 1, 7 * 86_400);
  const t = await ctx.api.post<TokenCreated>('/hosts/tokens', ttlSeconds === undefined ? {} : { ttlSeconds });
  ctx.print(
    t,
    `enrolment token (single use, expires ${relativeTime(t.expiresAt)}, ${t.expiresAt}):
  ${t.token}

run this on the new host:
  ${t.command}

the manager's CA fingerprint (the token pins it): ${t.caFingerprint}`,
  );
  return 0;
}

async function tokens(ctx: CliContext, args: readonly string[]): Promise<number> {
  parseCommand(args, {}, { min: 0, max: 0 });
  const { tokens: list } = await ctx.api.get<{ tokens: readonly TokenView[] }>('/hosts/tokens');
  const state = (t: (typeof list)[number]) =>
    t.usedAt ? `used ${relativeTime(t.usedAt)}` : Date.parse(t.expiresAt) < Date.now() ? 'expired' : 'unused';
  ctx.print(
    list,
    list.length
      ? table(
          ['ID', 'STATE', 'HOST', 'CREATED', 'EXPIRES'],
          list.map((t) => [t.id, state(t), t.usedByHost, relativeTime(t.createdAt), relativeTime(t.expiresAt)]),
        )
      : 'no enrolment tokens',
  );
  return 0;
}

async function showHost(ctx: CliContext, args: readonly string[]): Promise<number> {
  const { positionals } = parseCommand(args, {}, { min: 1, max: 1 });
  const h = await ctx.api.get<HostView>(hostPath(positionals[0]!));
  ctx.print(
    h,
    fields([
      ['name', `${h.name} (${h.id})`],
      ['url', h.url],
      ['status', statusOf(h)],
      ['drained', h.drainedAt ? `since ${h.drainedAt}` : undefined],
      ['dead', h.deadAt ? `declared ${h.deadAt}; storm host undrain ${h.name} once it is back` : undefined],
      ['fence', h.fence ? `${JSON.stringify(h.fence.argv)} (at most ${h.fence.timeoutSeconds} s)` : undefined],
      ['cpus', h.cpus],
      ['memory', capacity(h)],
      ['allocated', mib(h.allocatedMemoryMiB)],
      ['hypervisor', h.hypervisor.uri ? `${h.hypervisor.uri}${h.hypervisor.domainType ? ` (${h.hypervisor.domainType})` : ''}` : undefined],
      [
        'live moves',
        h.migration ? `taken at ${h.migration.uri}` : 'not taken (stormd --migration-uri unset): running instances move to it cold',
      ],
      ['heartbeat', relativeTime(h.lastHeartbeat)],
      ['enrolled', relativeTime(h.createdAt)],
      [
        'certificate',
        `${h.certificate.serial}, expires ${relativeTime(h.certificate.notAfter)}${h.certificate.renewalPending ? ' (renewed; the host has not used the new one yet)' : ''}`,
      ],
      ['last error', h.lastError],
    ]) + healthText(h),
  );
  return 0;
}

/** The host's checks from its last heartbeat, one per line, with the fix under a failure. */
function healthText(h: HostView): string {
  if (!h.health) return '';
  const width = Math.max(...h.health.checks.map((c) => c.name.length));
  const lines = h.health.checks.flatMap((c) => [
    `  ${c.status.padEnd(4)}  ${c.name.padEnd(width)}  ${c.message}`,
    ...(c.status === 'fail' && c.fix ? [`        ${' '.repeat(width)}  → ${c.fix}`] : []),
  ]);
  return `checks (${relativeTime(h.health.checkedAt)}):\n${lines.join('\n')}\n`;
}

async function removeHost(ctx: CliContext, args: readonly string[]): Promise<number> {
  const { values, positionals } = parseCommand(args, { yes: { type: 'boolean', short: 'y' } }, { min: 1, max: 1 });
  const yes = values.yes === true;
  const what = `storm host rm ${positionals[0]!}`;
  assertConfirmable(ctx, yes, what);
  const h = await ctx.api.get<HostView>(hostPath(positionals[0]!));
  await confirm(ctx, {
    yes,
    what,
    question: `Revoke host ${h.name} (${h.url})? Its certificate goes on the CRL and it takes no new instances.`,
  });
  const revoked = await ctx.api.delete<HostView>(hostPath(h.id));
  ctx.print(revoked, `revoked ${revoked.name}`);
  return 0;
}
