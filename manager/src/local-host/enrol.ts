/**
 * Enrols the manager's own machine as a host (the README's start command): a short-lived token,
 * `stormd join` run against our own listener, exactly as an administrator would on another machine.
 * Nothing happens when the host folder already holds a join.
 *
 * @example
 * await enrolLocalHost(ctx, { dataDir: join(data, 'hosts/local'), listen: '127.0.0.1:9443' });
 */
import { spawn } from 'node:child_process';
import { access } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { parseHostPort } from '../../../common/config.js';
import type { ManagerContext } from '../context.js';
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

export async function enrolLocalHost(ctx: ManagerContext, opts: LocalEnrolment): Promise<'joined' | 'already'> {
  if (await access(join(opts.dataDir, 'host.json')).then(() => true, () => false)) return 'already';
  const { host, port } = parseHostPort(opts.listen, 'local-host-listen');
  const dialled = !host || host === '0.0.0.0' ? '127.0.0.1' : host;
  const { token } = await ctx.trust.tokens.create(ctx.trust.fingerprint, 300);
  const args = [STORMD_ENTRY, 'join', ctx.publicUrl(), '--data', opts.dataDir, '--name', localHostName(), '--url', `https://${dialled}:${port}`];
  await new Promise<void>((resolve, reject) => {
    // The token goes through the environment so it stays out of `ps`.
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, STORMD_JOIN_TOKEN: token } });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`stormd join exited ${code}: ${out.trim().slice(-2000)}`))));
  });
  return 'joined';
}
