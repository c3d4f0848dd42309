/**
 * Enrols the manager's own machine as a host (the README's start command): a short-lived token,
 * `stormd join` run against our own listener, exactly as an administrator would on another machine.
 * Nothing happens when the host folder already holds a join to this manager. A join left half done
 * (the manager kept the host, the folder never got host.json) or a local host the administrator
 * removed is enrolled again; a folder joined to another manager is refused, never overwritten.
 *
 * @example
 * await enrolLocalHost(ctx, { dataDir: '/var/lib/storm/local-host', listen: '127.0.0.1:9443' });
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { parseHostPort } from '../../../common/config.js';
import type { ManagerContext } from '../context.js';
import { MgrErr } from '../errors.js';
import { STORMD_ENTRY } from './supervisor.js';

export interface LocalEnrolment {
  readonly dataDir: string;
  /** Where the local stormd will listen, HOST:PORT. */
  readonly listen: string;
}

/** A host name our certificates accept: this machine's name when it is a plain DNS name. */
export function localHostName(): string {
  const name = hostname().toLowerCase();
  return /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/.test(name) ? name : 'localhost';
}

export type EnrolmentOutcome = 'joined' | 'already' | 'rejoined';

export async function enrolLocalHost(ctx: ManagerContext, opts: LocalEnrolment): Promise<EnrolmentOutcome> {
  const joined = await readJoin(opts.dataDir);
  if (joined && joined.caPem.trim() !== ctx.trust.caPem.trim()) {
    throw MgrErr.MGR_ERR_CONFLICT(
      `the local host folder ${opts.dataDir} is joined to another manager (${joined.managerUrl}); ` +
        `remove it (rm -r ${opts.dataDir}) to enrol this machine again, or pass --local-host-data DIR`,
    );
  }
  const current = joined ? await ctx.hosts.get(joined.hostId).catch(() => undefined) : undefined;
  if (current && current.status !== 'revoked') return 'already';

  const name = localHostName();
  const { host, port } = parseHostPort(opts.listen, 'local-host-listen');
  const url = `https://${!host || host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  // A host of our name at our URL that this folder does not hold is a join cut short: retire it.
  const halfDone = await ctx.hosts.get(name).catch(() => undefined);
  if (halfDone && halfDone.status !== 'revoked' && halfDone.url === new URL(url).origin) await ctx.hosts.revoke(halfDone.id);

  const { token } = await ctx.trust.tokens.create(ctx.trust.fingerprint, 300, { local: true });
  const args = [
    STORMD_ENTRY,
    'join',
    ctx.publicUrl(),
    '--data',
    opts.dataDir,
    '--name',
    name,
    '--url',
    url,
    ...(joined ? ['--force'] : []),
  ];
  await new Promise<void>((resolve, reject) => {
    // The token goes through the environment so it stays out of `ps`. Its own process group: a
    // Ctrl-C meant for the manager must not cut the join between the manager's answer and host.json.
    const child = spawn(process.execPath, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      env: { ...process.env, STORMD_JOIN_TOKEN: token },
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`stormd join exited ${code}: ${out.trim().slice(-2000)}`))));
  });
  return joined ? 'rejoined' : 'joined';
}

/** What the folder's join says: its host id, manager and CA; undefined when it holds none. */
async function readJoin(dataDir: string): Promise<{ hostId: string; managerUrl: string; caPem: string } | undefined> {
  let record: { hostId?: unknown; managerUrl?: unknown };
  try {
    record = JSON.parse(await readFile(join(dataDir, 'host.json'), 'utf8')) as typeof record;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const caPem = await readFile(join(dataDir, 'ca.pem'), 'utf8').catch(() => '');
  return { hostId: String(record.hostId), managerUrl: String(record.managerUrl), caPem };
}
