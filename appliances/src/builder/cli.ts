/**
 * `storm-appliance build RECIPE --out DIR [--boot DIR] [--force]`: exit 0 on success, 2 on usage
 * errors, 1 on failures (printed as `storm-appliance build: APPL_ERR_…: message`).
 *
 * @example
 * const code = await runApplianceCli(['build', 'appliances/recipes/nginx-web', '--out', 'out', '--boot', 'appliances/build'], process.env, io);
 */
import { access } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import Type from 'typebox';
import { ConfigError, readOptions, renderHelp, validateConfig, type OptionSources } from '../../../common/config.js';
import { StormError } from '../../../common/errors.js';
import { ApplErr } from '../errors.js';
import { withBuildLock } from '../lock.js';
import { buildRecipeStack } from './build-stack.js';
import { CHANNEL_SRC_DIR, formatSize } from './channel-src.js';
import { loadRecipe } from './recipe.js';

export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

const USAGE = 'usage: storm-appliance build RECIPE --out DIR [--boot DIR] [--force]';
const SUMMARY =
  'Builds the layer a recipe describes, and the layers beneath it, as reproducible squashfs images\n' +
  '(DIR/layers/<name>.squashfs) plus the folder storm-channel build takes (DIR/channel-src/).\n' +
  'RECIPE is a recipe.json or the folder holding one; the format is in docs/recipes.md.';

const SOURCES: OptionSources = {
  out: { flag: 'out', arg: 'DIR', help: 'output folder (layers/, channel-src/, logs/, cache/)', env: 'STORM_APPLIANCE_OUT' },
  boot: { flag: 'boot', arg: 'DIR', help: 'folder with vmlinuz and initrd.img for a debootstrap OS (default: DIR itself)' },
  force: { flag: 'force', kind: 'boolean', help: 'rebuild every layer (downloads stay cached)' },
};
const Schema = Type.Object(
  { out: Type.String({ minLength: 1 }), boot: Type.Optional(Type.String({ minLength: 1 })), force: Type.Boolean({ default: false }) },
  { additionalProperties: false },
);

const exists = (p: string): Promise<boolean> =>
  access(p).then(
    () => true,
    () => false,
  );

function usage(io: CliIo, message: string): number {
  io.err(`storm-appliance: ${message}\n${USAGE}`);
  return 2;
}

export async function runApplianceCli(argv: readonly string[], env: NodeJS.ProcessEnv, io: CliIo, cwd = process.cwd()): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    (cmd === undefined ? io.err : io.out)(renderHelp(USAGE, SUMMARY, SOURCES));
    return cmd === undefined ? 2 : 0;
  }
  if (cmd !== 'build') return usage(io, `unknown command ${JSON.stringify(cmd)}`);
  let opts: { out: string; boot?: string; force: boolean };
  let recipePath: string;
  try {
    const parsed = readOptions(SOURCES, rest, env);
    if (parsed.help) {
      io.out(renderHelp(USAGE, SUMMARY, SOURCES));
      return 0;
    }
    if (parsed.positionals.length !== 1 || !parsed.positionals[0])
      return usage(io, parsed.positionals.length ? 'give exactly one RECIPE' : 'missing RECIPE');
    if (parsed.values['out'] === undefined) return usage(io, 'missing --out DIR');
    recipePath = resolve(cwd, parsed.positionals[0]);
    opts = validateConfig(Schema, parsed.values);
  } catch (err) {
    if (err instanceof ConfigError) return usage(io, err.problems.join('; '));
    throw err;
  }
  const out = resolve(cwd, opts.out);
  const bootDir = resolve(cwd, opts.boot ?? out);
  try {
    const recipe = await loadRecipe(recipePath);
    const boot = { kernel: join(bootDir, 'vmlinuz'), initrd: join(bootDir, 'initrd.img') };
    const haveBoot = (await exists(boot.kernel)) && (await exists(boot.initrd));
    const started = Date.now();
    const r = await withBuildLock(
      out,
      () => buildRecipeStack(recipe, { out, force: opts.force, log: io.out, ...(haveBoot ? { boot } : {}) }),
      io.out,
    );
    for (const l of r.layers) io.out(`  ${l.kind.padEnd(10)} ${l.name.padEnd(16)} ${formatSize(l.size).padStart(10)}  sha256 ${l.sha256}`);
    io.out(`storm-appliance: ${r.built} built, ${r.fresh} up to date in ${((Date.now() - started) / 1000).toFixed(1)}s → ${out}`);
    const src = relative(cwd, join(out, CHANNEL_SRC_DIR));
    if (r.channelDirs.length)
      io.out(
        `publish: storm-channel build ${src.startsWith('..') ? join(out, CHANNEL_SRC_DIR) : src} --out PUBLIC --base-url URL --key publisher.key`,
      );
    return 0;
  } catch (err) {
    if (err instanceof StormError) {
      io.err(`storm-appliance build: ${err.code}: ${err.message}`);
      return ApplErr.APPL_ERR_USAGE.is(err) ? 2 : 1;
    }
    io.err(`storm-appliance build: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return 1;
  }
}
