/**
 * Lifecycle over the layer stack: `checkpoint`, `checkpoints`, `rollback`, `upgrade`, `reprovision`,
 * `package`, `flatten`. A running instance is stopped for the change and started again: the
 * command says so before it asks the manager.
 */
import { parseCommand } from '../args.js';
import type { CommandSpec } from '../command.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { relativeTime, shortHash } from '../format.js';
import { table } from '../table.js';
import type { CheckpointView, InstanceView, LifecycleAnswer } from '../views.js';
import { instancePath } from './instances.js';

/** Runs one lifecycle action, telling first whether the instance will be restarted. */
async function operate(ctx: CliContext, name: string, body: Record<string, unknown>, what: string): Promise<number> {
  const before = await ctx.api.get<InstanceView>(instancePath(name));
  if (!ctx.json)
    ctx.err.write(
      before.state === 'running'
        ? `${before.name} is running: it is stopped for the ${what} and started again afterwards\n`
        : `${what} of ${before.name}\n`,
    );
  const r = await ctx.api.post<LifecycleAnswer>(`${instancePath(before.id)}/actions`, body);
  const op = r.operation;
  const done = [
    `${before.name}: ${what} done`,
    op.checkpoint ? `checkpoint ${op.checkpoint} recorded before it` : undefined,
    op.package
      ? `package ${op.package.name} ${op.package.version} (${shortHash(op.package.sha256)}) published in the local channel`
      : undefined,
    `now ${r.appliance} ${r.version}, ${r.state}, ${r.layers.length} layers`,
  ].filter(Boolean);
  ctx.print(r, done.join('\n'));
  return 0;
}

const one = (args: readonly string[], n: number, usage: string) => {
  const { values, positionals } = parseCommand(args, { label: { type: 'string' } }, { min: n, max: n });
  if (positionals.length !== n) throw new UsageError(usage);
  return { values, positionals };
};

export const checkpoint: CommandSpec = {
  name: 'checkpoint',
  usage: ['checkpoint NAME [--label TEXT]'],
  summary: "freeze an instance's writable layer and start a new empty one (a state to roll back to)",
  async run(ctx, args) {
    const { values, positionals } = one(args, 1, 'usage: storm checkpoint NAME [--label TEXT]');
    return operate(ctx, positionals[0]!, { action: 'checkpoint', ...(values.label ? { label: values.label } : {}) }, 'checkpoint');
  },
};

export const checkpoints: CommandSpec = {
  name: 'checkpoints',
  usage: ['checkpoints NAME'],
  summary: "an instance's checkpoints, oldest first: when, why, which appliance version, which layers",
  async run(ctx, args) {
    const { positionals } = parseCommand(args, {}, { min: 1, max: 1 });
    const { checkpoints: list } = await ctx.api.get<{ checkpoints: readonly CheckpointView[] }>(
      `${instancePath(positionals[0]!)}/checkpoints`,
    );
    ctx.print(
      list,
      table(
        ['#', 'ID', 'WHEN', 'APPLIANCE', 'REASON', 'LAYERS'],
        list.map((c) => [
          c.seq,
          c.id,
          relativeTime(c.createdAt),
          `${c.appliance} ${c.version}`,
          c.reason,
          c.layers.map((l) => l.id ?? `${l.kind}:${shortHash(l.sha256)}`).join(' '),
        ]),
      ),
    );
    return 0;
  },
};

export const rollback: CommandSpec = {
  name: 'rollback',
  usage: ['rollback NAME CHECKPOINT'],
  summary: 'restore a checkpoint under a new writable layer (the state left behind becomes a checkpoint too)',
  details: 'CHECKPOINT is its id (cp-…) or its number (#) from `storm checkpoints NAME`.',
  async run(ctx, args) {
    const { positionals } = parseCommand(args, {}, { min: 2, max: 2 });
    return operate(ctx, positionals[0]!, { action: 'rollback', checkpoint: positionals[1]!.replace(/^#/, '') }, 'rollback');
  },
};

export const upgrade: CommandSpec = {
  name: 'upgrade',
  usage: ['upgrade NAME VERSION'],
  summary: "replace the instance's appliance layer with another version, keeping its deployment and writable layers",
  async run(ctx, args) {
    const { positionals } = parseCommand(args, {}, { min: 2, max: 2 });
    return operate(ctx, positionals[0]!, { action: 'upgrade', version: positionals[1]! }, 'upgrade');
  },
};

export const reprovision: CommandSpec = {
  name: 'reprovision',
  usage: ['reprovision NAME APPLIANCE[@VERSION]'],
  summary: 'another appliance on the same instance (same name, address, identity), on a fresh stack',
  async run(ctx, args) {
    const { positionals } = parseCommand(args, {}, { min: 2, max: 2 });
    const [appliance, version] = positionals[1]!.split('@');
    return operate(ctx, positionals[0]!, { action: 'reprovision', appliance, ...(version ? { version } : {}) }, 'reprovision');
  },
};

export const packageCommand: CommandSpec = {
  name: 'package',
  usage: ['package NAME PACKAGE@VERSION'],
  summary: "capture the instance's writable layers as a new appliance (a deployment layer) in the manager's local channel",
  details:
    'example: storm package web1 hello-site@1.0.0   # then: storm launch hello-site web2\n' +
    'a traditional instance (one disk image) becomes a new image version: its overlay chain flattened,\n' +
    'its identity (cloud-init data, SSH host keys, /etc/storm, machine-id) scrubbed (docs/lifecycle.md)',
  async run(ctx, args) {
    const { positionals } = parseCommand(args, {}, { min: 2, max: 2 });
    const [name, version] = positionals[1]!.split('@');
    if (!name || !version) throw new UsageError('usage: storm package NAME PACKAGE@VERSION');
    return operate(ctx, positionals[0]!, { action: 'package', name, version }, 'package');
  },
};

export const flatten: CommandSpec = {
  name: 'flatten',
  usage: ['flatten NAME'],
  summary: "merge an instance's frozen writable layers into one (same content, a shallower stack)",
  async run(ctx, args) {
    const { positionals } = parseCommand(args, {}, { min: 1, max: 1 });
    return operate(ctx, positionals[0]!, { action: 'flatten' }, 'flatten');
  },
};
