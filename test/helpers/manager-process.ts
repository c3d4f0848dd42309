/**
 * A real `storm-manager` process for tests (the built bin, HTTPS on a free loopback port) and an API
 * client that trusts its CA and holds its admin token.
 *
 * @example
 * const m = await startManager(dataDir, ['--channel-allow', '127.0.0.0/8']);
 * await m.api.get('/health');
 * await m.proc.stop('SIGTERM');
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ManagerClient } from '../../cli/src/client.js';
import { startProcess, type TestProcess } from './process.js';

export const ROOT = resolve(import.meta.dirname, '../..');

export interface ManagerProcess {
  readonly proc: TestProcess;
  readonly url: string;
  readonly token: string;
  readonly ca: string;
  readonly api: ManagerClient;
}

/** A client of a manager whose data folder is `dataDir` (admin token and CA read from it). */
export async function managerClient(url: string, dataDir: string): Promise<{ api: ManagerClient; token: string; ca: string }> {
  const token = (await readFile(join(dataDir, 'admin.token'), 'utf8')).trim();
  const ca = await readFile(join(dataDir, 'pki', 'ca.pem'), 'utf8');
  return { api: new ManagerClient({ url, token, ca }), token, ca };
}

export async function startManager(
  dataDir: string,
  extraArgs: readonly string[] = [],
  env: NodeJS.ProcessEnv = {},
  /** Flags for node itself, e.g. `--cpu-prof` (not allowed in NODE_OPTIONS). */
  nodeArgs: readonly string[] = [],
): Promise<ManagerProcess> {
  const proc = startProcess(
    process.execPath,
    [
      ...nodeArgs,
      join(ROOT, 'bin/storm-manager.js'),
      '--data',
      dataDir,
      '--listen',
      '127.0.0.1:0',
      '--channel-poll',
      '0',
      '--log-level',
      'warn',
      ...extraArgs,
    ],
    { cwd: ROOT, env: { ...process.env, ...env } },
  );
  const url = (await proc.waitForLine(/listening on (\S+)/, 60_000))[1]!;
  const client = await managerClient(url, dataDir);
  return { proc, url, ...client };
}
