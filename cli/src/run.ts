/**
 * The CLI around its command table: global options, `storm help [COMMAND]` and `--help`, and the
 * one place failures become output and exit statuses (usage 2, everything else 1).
 *
 * @example
 * process.exitCode = await runCli(COMMANDS, process.argv.slice(2), io);
 */
import { StormError } from '../../common/errors.js';
import { type CommandSpec, commandHelp } from './command.js';
import { makeContext } from './context.js';
import { CliError, UsageError } from './errors.js';

const GLOBAL_WITH_VALUE = new Set(['url', 'token', 'token-file', 'ca', 'data']);

export interface ParsedArgv {
  readonly globals: Record<string, string>;
  readonly json: boolean;
  readonly help: boolean;
  readonly command?: string;
  readonly args: string[];
}

/** Splits `[global options] COMMAND [command args]`; `--json` and `--help` count anywhere. */
export function splitArgs(argv: readonly string[]): ParsedArgv {
  const globals: Record<string, string> = {};
  let json = false;
  let help = false;
  let command: string | undefined;
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--json') json = true;
    else if (a === '--help' || a === '-h') help = true;
    else if (command === undefined && a.startsWith('--')) {
      const [flag, inline] = a.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
      if (!GLOBAL_WITH_VALUE.has(flag)) throw new UsageError(`unknown option --${flag}`);
      const value = inline ?? argv[++i];
      if (value === undefined) throw new UsageError(`--${flag} needs a value`);
      globals[flag] = value;
    } else if (command === undefined) command = a;
    else args.push(a);
  }
  return { globals, json, help, ...(command === undefined ? {} : { command }), args };
}

export function mainHelp(commands: readonly CommandSpec[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return `usage: storm [--url URL] [--token T | --token-file F] [--ca FILE] [--data DIR] [--json] COMMAND [ARGS]

The STORM command-line client. \`storm help COMMAND\` (or \`storm COMMAND --help\`) shows a command's usage.

Commands:
${commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

Options:
  --url URL          the manager (default $STORM_URL, else DATA/manager.url, else https://127.0.0.1:8443)
  --token T          API token (default $STORM_TOKEN, else the token file)
  --token-file F     file holding the token (default $STORM_TOKEN_FILE or DATA/admin.token)
  --ca FILE          the manager's CA certificate for https (default $STORM_CA or DATA/pki/ca.pem)
  --data DIR         the manager's data folder, for the two defaults above (default $STORM_DATA or ./data)
  --json             print the API's JSON (lists as arrays) instead of tables
  --help             this help, or a command's

Exit status: 0 done, 1 failed (storm: CODE: message), 2 usage error.
`;
}

export interface CliIo {
  readonly out: NodeJS.WriteStream;
  readonly err: NodeJS.WriteStream;
  readonly stdin: NodeJS.ReadStream;
  readonly env: NodeJS.ProcessEnv;
}

/** Runs one command line; resolves with the exit status (never rejects). */
export async function runCli(commands: readonly CommandSpec[], argv: readonly string[], io: CliIo): Promise<number> {
  const byName = new Map(commands.map((c) => [c.name, c]));
  let current: CommandSpec | undefined;
  try {
    const { globals, json, help, command: name, args } = splitArgs(argv);
    if (name === 'help' || !name) {
      const topic = name === 'help' ? args[0] : undefined;
      if (topic === undefined) {
        io.out.write(mainHelp(commands));
        return name || help ? 0 : 2;
      }
      current = byName.get(topic);
      if (!current) throw new UsageError(`unknown command ${topic}`);
      io.out.write(commandHelp(current));
      return 0;
    }
    current = byName.get(name);
    if (!current) throw new UsageError(`unknown command ${name}; storm help lists them`);
    if (help) {
      io.out.write(commandHelp(current));
      return 0;
    }
    const ctx = makeContext(
      { url: globals['url'], token: globals['token'], tokenFile: globals['token-file'], ca: globals['ca'], data: globals['data'], json },
      io.env,
      io.out,
      io.err,
      io.stdin,
    );
    return await current.run(ctx, args);
  } catch (err) {
    return report(err, current, io.err);
  }
}

function report(err: unknown, command: CommandSpec | undefined, out: NodeJS.WriteStream): number {
  if (err instanceof UsageError) {
    const usage = command
      ? `\n${command.usage.map((u, i) => `${i === 0 ? 'usage: ' : '       '}storm ${u}`).join('\n')}\n(storm help ${command.name} says more)`
      : '';
    out.write(`storm: ${err.message}${usage}\n`);
    return 2;
  }
  if (err instanceof CliError || err instanceof StormError) out.write(`storm: ${err.code}: ${err.message}\n`);
  else {
    const code = (err as NodeJS.ErrnoException | undefined)?.code;
    out.write(`storm: ${typeof code === 'string' ? code : 'CLI_ERR_INTERNAL'}: ${err instanceof Error ? err.message : String(err)}\n`);
  }
  return 1;
}
