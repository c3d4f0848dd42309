/** Argument handling of `storm-channel`: exit 0 on success, 2 on usage errors, 1 on failures. */
import { ConfigError, readOptions, renderHelp, validateConfig } from '../../../common/config.js';
import { StormError } from '../../../common/errors.js';
import { STORM_VERSION } from '../../../common/version.js';
import { ChanErr } from '../errors.js';
import { COMMANDS, type CliIo, type Command } from './commands.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

const TOP_USAGE = 'usage: storm-channel <keygen|build|serve> [options]   (storm-channel COMMAND --help for each)';

export function topHelp(): string {
  const rows = COMMANDS.map((c) => `  ${c.name.padEnd(8)}${c.summary}`);
  return `${TOP_USAGE}\n\nPublish STORM appliance channels: an RSS 2.0 feed, appliance descriptors and squashfs layers, signed with Ed25519.\n\nCommands:\n${rows.join('\n')}\n`;
}

export async function runCli(argv: readonly string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? io.err : io.out)(topHelp());
    return name === undefined ? EXIT_USAGE : EXIT_OK;
  }
  if (name === '--version') {
    io.out(STORM_VERSION);
    return EXIT_OK;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) return usageError(io, `unknown command ${JSON.stringify(name)}`, TOP_USAGE);
  let values: Record<string, unknown>;
  let positionals: Record<string, string>;
  try {
    const parsed = parse(cmd, rest, env);
    if (parsed === 'help') {
      io.out(renderHelp(cmd.usage, cmd.summary, cmd.options));
      return EXIT_OK;
    }
    ({ values, positionals } = parsed);
  } catch (err) {
    if (err instanceof ConfigError) return usageError(io, err.problems.map((p) => flagNames(cmd, p)).join('; '), cmd.usage);
    if (ChanErr.CHAN_ERR_USAGE.is(err)) return usageError(io, err.message, cmd.usage);
    throw err;
  }
  try {
    await cmd.run(values, positionals, io);
    return EXIT_OK;
  } catch (err) {
    if (err instanceof StormError) {
      io.err(`storm-channel ${cmd.name}: ${err.code}: ${err.message}`);
      return cmd.usageErrors?.includes(err.code) ? EXIT_USAGE : EXIT_FAILURE;
    }
    io.err(`storm-channel ${cmd.name}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return EXIT_FAILURE;
  }
}

function parse(
  cmd: Command,
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): 'help' | { values: Record<string, unknown>; positionals: Record<string, string> } {
  const { values, positionals, help } = readOptions(cmd.options, argv, env);
  if (help) return 'help';
  const missing = cmd.required
    .filter((k) => values[k] === undefined)
    .map((k) => `--${cmd.options[k]?.flag} ${cmd.options[k]?.arg ?? ''}`.trim());
  if (positionals.length < cmd.positionals.length) missing.unshift(...cmd.positionals.slice(positionals.length));
  if (missing.length) throw ChanErr.CHAN_ERR_USAGE(`missing ${missing.join(', ')}`);
  if (positionals.length > cmd.positionals.length)
    throw ChanErr.CHAN_ERR_USAGE(`unexpected argument ${JSON.stringify(positionals[cmd.positionals.length])}`);
  const named = Object.fromEntries(cmd.positionals.map((p, i) => [p, positionals[i] as string]));
  return { values: validateConfig(cmd.schema, values) as Record<string, unknown>, positionals: named };
}

/** Schema problems speak of `/baseUrl`; the user typed `--base-url`. */
function flagNames(cmd: Command, problem: string): string {
  return problem.replace(/^\/(\w+):/, (m, key: string) => (cmd.options[key] ? `--${cmd.options[key].flag}:` : m));
}

function usageError(io: CliIo, message: string, usage: string): number {
  io.err(`storm-channel: ${message}\n${usage}`);
  return EXIT_USAGE;
}
