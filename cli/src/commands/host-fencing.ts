/** `storm host drain|undrain|evacuate|fence|declare-dead`: taking a host out of placement, emptying it, and fencing a dead one. */
import { intFlag, parseCommand } from '../args.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { assertConfirmable, confirm } from '../prompt.js';
import type { DeathReport, EvacuationReport, HostView, UndrainAnswer } from '../views.js';

const path = (host: string, what: string): string => `/hosts/${encodeURIComponent(host)}/${what}`;

export async function drain(ctx: CliContext, args: readonly string[]): Promise<number> {
  const { positionals } = parseCommand(args, {}, { min: 1, max: 1 });
  const h = await ctx.api.post<HostView>(path(positionals[0]!, 'drain'), {});
  ctx.print(h, `${h.name} is drained: placement no longer picks it (its instances stay; storm host evacuate ${h.name} moves them)`);
  return 0;
}

export async function undrain(ctx: CliContext, args: readonly string[]): Promise<number> {
  const { positionals } = parseCommand(args, {}, { min: 1, max: 1 });
  const a = await ctx.api.post<UndrainAnswer>(path(positionals[0]!, 'undrain'), {});
  const stale = a.staleRemoved.length ? `\nstale domains removed first: ${a.staleRemoved.join(', ')}` : '';
  ctx.print(a, `${a.host.name} is undrained (${a.host.status}): placement may pick it again${stale}`);
  return 0;
}

export async function evacuate(ctx: CliContext, args: readonly string[]): Promise<number> {
  const { values, positionals } = parseCommand(args, { 'allow-restart': { type: 'boolean' } }, { min: 1, max: 1 });
  const r = await ctx.api.post<EvacuationReport>(path(positionals[0]!, 'evacuate'), {
    ...(values['allow-restart'] ? { allowRestart: true } : {}),
  });
  const lines = [
    `${r.host.name} is drained`,
    ...r.moved.map((m) => `moved    ${m.name} → ${m.to}`),
    ...r.skipped.map((s) => `skipped  ${s.name}: ${s.reason}`),
    ...r.failed.map((f) => `failed   ${f.name}: ${f.error}`),
  ];
  if (r.moved.length + r.skipped.length + r.failed.length === 0) lines.push('it had no instances');
  ctx.print(r, lines.join('\n'));
  return r.failed.length ? 1 : 0;
}

/** `host fence HOST -- ARGV…` stores the command, `--timeout S` its limit; `--clear` removes it. */
export async function fence(ctx: CliContext, args: readonly string[]): Promise<number> {
  const cut = args.indexOf('--');
  const argv = cut >= 0 ? args.slice(cut + 1) : [];
  const { values, positionals } = parseCommand(
    cut >= 0 ? args.slice(0, cut) : args,
    { timeout: { type: 'string' }, clear: { type: 'boolean' } },
    { min: 1, max: 1 },
  );
  const host = positionals[0]!;
  if (values.clear) {
    if (argv.length || values.timeout) throw new UsageError('--clear takes no command and no --timeout');
    const h = await ctx.api.delete<HostView>(path(host, 'fence'));
    ctx.print(h, `${h.name} has no fence command`);
    return 0;
  }
  if (argv.length === 0) throw new UsageError('the fence command goes after --: storm host fence HOST -- COMMAND [ARG…]');
  const timeoutSeconds = intFlag(values.timeout, 'timeout', 1, 600);
  const h = await ctx.api.put<HostView>(path(host, 'fence'), { argv, ...(timeoutSeconds ? { timeoutSeconds } : {}) });
  ctx.print(h, `${h.name}'s fence command (at most ${h.fence!.timeoutSeconds} s): ${JSON.stringify(h.fence!.argv)}`);
  return 0;
}

export async function declareDead(ctx: CliContext, args: readonly string[]): Promise<number> {
  const { values, positionals } = parseCommand(args, { yes: { type: 'boolean', short: 'y' } }, { min: 1, max: 1 });
  const yes = values.yes === true;
  const what = `storm host declare-dead ${positionals[0]!}`;
  assertConfirmable(ctx, yes, what);
  const h = await ctx.api.get<HostView>(`/hosts/${encodeURIComponent(positionals[0]!)}`);
  await confirm(ctx, {
    yes,
    what,
    question: `Declare host ${h.name} dead${h.fence ? ` (after its fence command ${JSON.stringify(h.fence.argv)})` : ''}? Its instances without a copy elsewhere are lost, and the domains it still has are removed if it comes back.`,
  });
  const r = await ctx.api.post<DeathReport>(path(h.id, 'declare-dead'), {});
  const lines = [
    `${r.host.name} is dead and drained`,
    ...(r.fence ? [`fence command exited ${r.fence.exitCode}${r.fence.output.trim() ? `: ${r.fence.output.trim()}` : ''}`] : []),
    ...r.recoverable.map((i) =>
      i.restarted
        ? `restarted    ${i.name} on ${i.copyOn}, from its last checkpoint`
        : `recoverable  ${i.name}: a copy on ${i.copyOn}${i.error ? ` (its restart failed: ${i.error})` : ''}`,
    ),
    ...r.lost.map((i) => `lost         ${i.name} (was ${i.was}): ${i.lost.join('; ')}`),
    ...r.volumesLost.map((v) => `lost         volume ${v} (attached to no instance)`),
  ];
  if (r.recoverable.length + r.lost.length + r.volumesLost.length === 0) lines.push('it had no instances and no volumes');
  ctx.print(r, lines.join('\n'));
  return 0;
}
