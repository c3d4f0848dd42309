/**
 * Real stormd processes for tests: `stormd join` (the bin, as an administrator runs it) with a
 * token from the manager, then `stormd --data … --listen …` on a free loopback port; `startStormd`
 * returns once the manager has the host's first heartbeat.
 *
 * @example
 * const host = await startStormd({ manager, name: 'host-a', dir, hypervisor: 'test:///default' });
 * await host.proc.stop('SIGTERM');
 */
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { ManagerProcess } from './manager-process.js';
import { ROOT } from './manager-process.js';
import { pollUntil } from './poll.js';
import { startProcess, type TestProcess } from './process.js';

export interface StormdProcess {
  readonly name: string;
  readonly data: string;
  readonly url: string;
  readonly proc: TestProcess;
  /** Restarts the daemon on the same folder and port. */
  restart(): Promise<StormdProcess>;
}

/** A port free right now on 127.0.0.1 (the daemon binds it a moment later). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export async function joinStormd(
  manager: Pick<ManagerProcess, 'api' | 'url'>,
  opts: { name: string; data: string; url: string; token?: string },
): Promise<{ code: number | null; output: string }> {
  const token = opts.token ?? (await manager.api.post<{ token: string }>('/hosts/tokens', {})).token;
  const p = startProcess(
    process.execPath,
    [join(ROOT, 'bin/stormd.js'), 'join', manager.url, '--data', opts.data, '--name', opts.name, '--url', opts.url],
    {
      env: { ...process.env, STORMD_JOIN_TOKEN: token },
    },
  );
  const { code } = await p.exited();
  return { code, output: p.output() };
}

/** Starts `stormd` on an already joined folder; `args` go after the usual flags; `wrap` comes before node (e.g. an `nsenter … --`). */
export async function serveStormd(opts: {
  name: string;
  data: string;
  listen: string;
  hypervisor: string;
  args?: readonly string[];
  wrap?: readonly string[];
}): Promise<StormdProcess> {
  const command = [
    ...(opts.wrap ?? []),
    process.execPath,
    join(ROOT, 'bin/stormd.js'),
    '--data',
    opts.data,
    '--listen',
    opts.listen,
    '--hypervisor',
    opts.hypervisor,
    '--log-level',
    'warn',
    ...(opts.args ?? []),
  ];
  const proc = startProcess(command[0]!, command.slice(1));
  const [, url] = await proc.waitForLine(/stormd: listening on (https:\/\/\S+)/, 60_000);
  return { name: opts.name, data: opts.data, url: url!, proc, restart: async () => serveStormd(opts) };
}

/** Joins a new host and starts it (its data folder is `dir/name`). */
export async function startStormd(
  manager: Pick<ManagerProcess, 'api' | 'url'>,
  opts: { name: string; dir: string; hypervisor: string; listenHost?: string; wrap?: readonly string[]; args?: readonly string[] },
): Promise<StormdProcess> {
  const port = await freePort();
  const host = opts.listenHost ?? '127.0.0.1';
  const data = join(opts.dir, opts.name);
  const joined = await joinStormd(manager, { name: opts.name, data, url: `https://127.0.0.1:${port}` });
  if (joined.code !== 0) throw new Error(`stormd join ${opts.name} failed (${joined.code}):\n${joined.output}`);
  const served = await serveStormd({
    name: opts.name,
    data,
    listen: `${host}:${port}`,
    hypervisor: opts.hypervisor,
    ...(opts.wrap ? { wrap: opts.wrap } : {}),
    ...(opts.args ? { args: opts.args } : {}),
  });
  await waitUntilReady(manager, opts.name);
  return served;
}

/** Placement only considers a host after its first heartbeat, which a loaded machine may delay. */
export async function waitUntilReady(manager: Pick<ManagerProcess, 'api'>, name: string, timeoutMs = 60_000): Promise<void> {
  await pollUntil(
    `host ${name} to be ready`,
    async () => {
      const { hosts } = await manager.api.get<{ hosts: { name: string; status: string }[] }>('/hosts');
      return hosts.some((h) => h.name === name && h.status === 'ready') ? true : undefined;
    },
    { timeoutMs },
  );
}
