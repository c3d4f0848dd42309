/**
 * Where the CLI finds its manager and credentials: flags, then environment, then the defaults of
 * the README's start command (the manager on 127.0.0.1:8080, the token in ./data/admin.token).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManagerClient } from './client.js';

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

export class UsageError extends Error {}

export function makeContext(opts: GlobalOptions, env: NodeJS.ProcessEnv, out = process.stdout, err = process.stderr): CliContext {
  const data = opts.data ?? env['STORM_DATA'] ?? './data';
  const url = opts.url ?? env['STORM_URL'] ?? 'https://127.0.0.1:8443';
  const tokenFile = opts.tokenFile ?? env['STORM_TOKEN_FILE'] ?? join(data, 'admin.token');
  const token = (opts.token ?? env['STORM_TOKEN'] ?? readIf(tokenFile))?.trim();
  if (!token) throw new UsageError(`no API token: pass --token, set STORM_TOKEN, or point --token-file at the manager's admin.token (tried ${tokenFile})`);
  const caFile = opts.ca ?? env['STORM_CA'] ?? join(data, 'pki', 'ca.pem');
  const ca = readIf(caFile);
  const json = opts.json;
  return {
    api: new ManagerClient({ url, token, ...(ca ? { ca } : {}) }),
    json,
    out,
    err,
    print(value, human) {
      out.write(json ? `${JSON.stringify(value, null, 2)}\n` : human.endsWith('\n') || human === '' ? human : `${human}\n`);
    },
  };
}
