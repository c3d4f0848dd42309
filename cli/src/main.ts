/** `storm`: the command-line client of the manager's API. `storm --help` lists the commands. */
import { ApiError } from './client.js';
import { appliances, channel } from './commands/channels.js';
import { pull } from './commands/pull.js';
import { type CliContext, makeContext, UsageError } from './context.js';

type Command = (ctx: CliContext, args: readonly string[]) => Promise<number>;

const COMMANDS: Readonly<Record<string, { run: Command; help: string }>> = {
  channel: { run: channel, help: 'channel add URL --key FILE | channel ls | channel refresh ID | channel rm ID' },
  appliances: { run: (ctx) => appliances(ctx), help: 'appliances                 every appliance version of every channel' },
  pull: { run: pull, help: 'pull NAME[@VERSION]        pull an appliance into the cache, with a progress bar' },
};

export const HELP = `usage: storm [--url URL] [--token T | --token-file F] [--ca FILE] [--json] COMMAND [ARGS]

The STORM command-line client.

Commands:
${Object.values(COMMANDS).map((c) => `  ${c.help}`).join('\n')}

Options:
  --url URL          the manager (default $STORM_URL or https://127.0.0.1:8443)
  --token T          API token (default $STORM_TOKEN, else the token file)
  --token-file F     file holding the token (default $STORM_TOKEN_FILE or ./data/admin.token)
  --ca FILE          the manager's CA certificate for https (default $STORM_CA or ./data/pki/ca.pem)
  --data DIR         the manager's data folder, for the two defaults above (default $STORM_DATA or ./data)
  --json             machine-readable output
  --help             this help
`;

const GLOBAL_WITH_VALUE = new Set(['url', 'token', 'token-file', 'ca', 'data']);

/** Splits `[global options] COMMAND [command args]`; `--json` and `--help` count anywhere. */
export function splitArgs(argv: readonly string[]): { globals: Record<string, string>; json: boolean; help: boolean; command?: string; args: string[] } {
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

async function main(argv: readonly string[]): Promise<number> {
  const { globals, json, help, command: name, args } = splitArgs(argv);
  if (help || !name) {
    process.stdout.write(HELP);
    return name || help ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) throw new UsageError(`unknown command ${name}; storm --help lists them`);
  const ctx = makeContext({ url: globals['url'], token: globals['token'], tokenFile: globals['token-file'], ca: globals['ca'], data: globals['data'], json }, process.env);
  return command.run(ctx, args);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`storm: ${err.message}\n`);
      process.exitCode = 2;
    } else if (err instanceof ApiError) {
      process.stderr.write(`storm: ${err.code}: ${err.message}\n`);
      process.exitCode = 1;
    } else {
      process.stderr.write(`storm: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    }
  },
);
