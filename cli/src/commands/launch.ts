/**
 * `storm launch APPLIANCE[@VERSION] NAME [--param KEY=VALUE]... [--host HOST]`: parameters checked
 * against the appliance before anything is sent, a progress bar while its layers pull, each launch
 * step as the manager reports it, then the instance's state, host and address.
 */
import { readFile } from 'node:fs/promises';
import type { ServerEvent } from '../client.js';
import { UsageError } from '../errors.js';
import { parseRef, resolveAppliance } from '../appliance-ref.js';
import { parseCommand } from '../args.js';
import { intervalSeconds } from './interval.js';
import type { CommandSpec } from '../command.js';
import type { CliContext } from '../context.js';
import { checkParams, parseParamFlags } from '../params.js';
import { PullBar, watchEvents } from '../pull-progress.js';
import type { ApplianceView, InstanceView } from '../views.js';
import { address, stateText } from './instances.js';

/** The manager's launch steps (`instance.launch` events), in order. */
export const LAUNCH_STEPS: Readonly<Record<string, string>> = {
  reserved: 'reserved the name, a MAC address and a host',
  staged: 'layers staged on the host',
  layer: 'instance layer created',
  defined: 'domain defined',
  started: 'started',
};
const STEP_COUNT = Object.keys(LAUNCH_STEPS).length;
/** How long to wait after the answer for step events still in flight on the other connection. */
const STEP_GRACE_MS = 2000;

export const launch: CommandSpec = {
  name: 'launch',
  usage: [
    'launch APPLIANCE[@VERSION] NAME [--param KEY=VALUE]... [--host HOST] [--channel ID] [--ssh-key KEY|FILE]... [--disk MIB] [--replicate HOST [--replicate-every INTERVAL]]',
  ],
  summary: 'launch an instance of an appliance: progress while its layers pull, then each launch step',
  details: `The newest version unless @VERSION is given. Parameters are checked against the
appliance's declared ones (name, type, pattern, bounds) before anything is sent; the ones not
given take their defaults. \`storm appliances NAME\` lists them.

  -p, --param KEY=VALUE   a launch parameter (repeat for more)
  --host HOST             place it on this host (id or name); default: the placement picks one
  --channel ID            take the appliance from this channel when several carry it
  --ssh-key KEY|FILE      a traditional appliance: an SSH public key (or a .pub file) cloud-init
                          installs, besides your own (PUT /api/v1/account/ssh-keys); repeat for more
  --disk MIB              a traditional appliance: its disk in MiB (default and least: its minimum)
  --replicate HOST        keep its checkpoints on HOST from the start (storm replicate); the
                          placement never puts it on HOST
  --replicate-every INTERVAL
                          with --replicate: the manager checkpoints it this often (90s, 15m, 1h,
                          2d; each checkpoint restarts a layered guest)

example: storm launch hello-web web1 --param greeting=Hi --host host-a`,
  async run(ctx, args) {
    const { values, positionals } = parseCommand(
      args,
      {
        param: { type: 'string', multiple: true, short: 'p' },
        host: { type: 'string' },
        channel: { type: 'string' },
        'ssh-key': { type: 'string', multiple: true },
        disk: { type: 'string' },
        replicate: { type: 'string' },
        'replicate-every': { type: 'string' },
      },
      { min: 2, max: 2 },
    );
    if (values['replicate-every'] !== undefined && !values.replicate) throw new UsageError('--replicate-every needs --replicate HOST');
    const every = values['replicate-every'] === undefined ? undefined : intervalSeconds(values['replicate-every'], '--replicate-every');
    const given = parseParamFlags(values.param ?? []);
    const appliance = await resolveAppliance(ctx, parseRef(positionals[0]), values.channel);
    const params = checkParams(appliance.parameters, given, `${appliance.name} ${appliance.version}`);
    const name = positionals[1]!;
    const body = {
      appliance: appliance.name,
      version: appliance.version,
      channel: appliance.channelId,
      name,
      ...(Object.keys(params).length ? { params } : {}),
      ...(values.host ? { host: values.host } : {}),
      ...(values['ssh-key']?.length ? { sshKeys: await Promise.all(values['ssh-key'].map(readKey)) } : {}),
      ...(values.disk === undefined ? {} : { diskMiB: diskMiB(values.disk) }),
      ...(values.replicate ? { replicate: { to: values.replicate, ...(every === undefined ? {} : { every }) } } : {}),
    };
    const view = ctx.json
      ? await ctx.api.post<InstanceView>('/instances', body)
      : await withProgress(ctx, appliance, name, () => ctx.api.post<InstanceView>('/instances', body));
    ctx.print(view, `${view.name}: ${stateText(view)} on ${view.host?.name ?? 'no host'}, address ${address(view) ?? 'not assigned yet'}`);
    return 0;
  },
};

/** A key given inline (`ssh-ed25519 AAAA…`) or as the path of a `.pub` file. */
async function readKey(arg: string): Promise<string> {
  if (/^(ssh-|ecdsa-|sk-)/.test(arg)) return arg.trim();
  try {
    return (await readFile(arg, 'utf8')).trim();
  } catch (err) {
    throw new UsageError(`--ssh-key ${arg}: neither a public key nor a readable file (${(err as Error).message})`);
  }
}

function diskMiB(arg: string): number {
  const n = Number(arg);
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`--disk ${arg}: a size in MiB, a positive integer`);
  return n;
}

async function withProgress(
  ctx: CliContext,
  appliance: ApplianceView,
  name: string,
  launchIt: () => Promise<InstanceView>,
): Promise<InstanceView> {
  const bar = new PullBar(ctx.err, appliance, true);
  let lastStep: string | undefined;
  let sawStarted: () => void = () => undefined;
  const started = new Promise<void>((resolve) => (sawStarted = resolve));
  const onEvent = (e: ServerEvent) => {
    if (bar.handle(e) || e.type !== 'instance.launch' || e.data['name'] !== name) return;
    const step = String(e.data['step']);
    const n = Object.keys(LAUNCH_STEPS).indexOf(step) + 1;
    // A pull whose completion event we missed ends here: the launch moved on.
    if (bar.active) bar.finish('pulled, verified');
    ctx.err.write(`${name}: [${n || '?'}/${STEP_COUNT}] ${LAUNCH_STEPS[step] ?? step}\n`);
    lastStep = step;
    if (step === 'started') sawStarted();
  };
  const watch = await watchEvents(ctx, ['pull', 'instance.launch'], onEvent);
  if (appliance.cached) ctx.err.write(`${appliance.name} ${appliance.version}: layers cached\n`);
  try {
    const view = await launchIt();
    if (lastStep !== 'started') await Promise.race([started, new Promise((r) => setTimeout(r, STEP_GRACE_MS).unref())]);
    return view;
  } finally {
    await watch.close();
  }
}
