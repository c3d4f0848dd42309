/**
 * Where the CLI finds its manager and credentials: flags, then environment, then the manager's
 * defaults (https://127.0.0.1:8443, the token in ./data/admin.token, the CA in ./data/pki/ca.pem).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManagerClient } from './client.js';
import { cliError } from './errors.js';

export { UsageError } from './errors.js';

export interface GlobalOptions {
  readonly url?: string;
  readonly token?: string;
  readonly tokenFile?: string;
  readonly ca?: string;
  readonly data?: string;
  readonly json: boolean;
}

export interface CliContext {
  readonly api: ManagerClient;
  readonly json: boolean;
  readonly out: NodeJS.WriteStream;
  readonly err: NodeJS.WriteStream;
  /** Where confirmations and secrets are read from; prompts only when it is a terminal. */
  readonly stdin: NodeJS.ReadStream;
  /** Prints a value as JSON (with --json) or as the given human text. */
  print(value: unknown, human: string): void;
}

const readIf = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

export function makeContext(
  opts: GlobalOptions,
  env: NodeJS.ProcessEnv,
  out: NodeJS.WriteStream = process.stdout,
  err: NodeJS.WriteStream = process.stderr,
  stdin: NodeJS.ReadStream = process.stdin,
): CliContext {
  const data = opts.data ?? env['STORM_DATA'] ?? './data';
  // The manager writes the URL it serves at into its data folder (manager.url) when it starts.
  const url = opts.url ?? env['STORM_URL'] ?? readIf(join(data, 'manager.url'))?.trim() ?? 'https://127.0.0.1:8443';
  const tokenFile = opts.tokenFile ?? env['STORM_TOKEN_FILE'] ?? join(data, 'admin.token');
  const caFile = opts.ca ?? env['STORM_CA'] ?? join(data, 'pki', 'ca.pem');
  const json = opts.json;
  let api: ManagerClient | undefined;
  return {
    // Made on first use, so a command's own usage errors come before credential trouble.
    get api() {
      if (api) return api;
      const token = (opts.token ?? env['STORM_TOKEN'] ?? readIf(tokenFile))?.trim();
      if (!token)
        throw cliError(
          'CLI_ERR_NO_TOKEN',
          `no API token: pass --token, set STORM_TOKEN, or point --token-file (or --data) at the manager's admin.token (tried ${tokenFile})`,
        );
      const ca = readIf(caFile);
      api = new ManagerClient({ url, token, ...(ca ? { ca } : {}) });
      return api;
    },
    json,
    out,
    err,
    stdin,
    print(value, human) {
      out.write(json ? `${JSON.stringify(value, null, 2)}\n` : human.endsWith('\n') || human === '' ? human : `${human}\n`);
    },
  };
}
