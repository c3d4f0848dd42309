/**
 * The realm's lines for `storm doctor`: the KDC serving (its state, and a TCP connection to it), the
 * realm's files private, and the directory users who have no principal yet (created before the
 * realm: they get one at their next password change). Each line is `{ name, status, message, fix? }`,
 * the doctor's check shape.
 *
 * @example
 * const lines = await kerberosChecks(ctx.kerberos, (await ctx.directory.listUsers()).map((u) => ({ uid: u.uid, hasPassword: u.hasPassword })));
 */
import { lstat, readdir } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { KerberosService } from './kerberos-service.js';

export interface KerberosCheck {
  readonly name: string;
  readonly status: 'ok' | 'fail' | 'skip';
  readonly message: string;
  readonly fix?: string;
}

export async function kerberosChecks(
  kerberos: KerberosService,
  users: readonly { uid: string; hasPassword: boolean }[],
): Promise<KerberosCheck[]> {
  return [await kdc(kerberos), await files(kerberos), await principals(kerberos, users)];
}

async function kdc(kerberos: KerberosService): Promise<KerberosCheck> {
  const { kdc: s, listen, realm } = kerberos.status();
  if (s.state !== 'running') {
    return {
      name: 'kerberos-kdc',
      status: 'fail',
      message: `the KDC for ${realm} is ${s.state}${s.lastError ? `: ${s.lastError}` : ''}${s.lastExit ? ` (last exit ${s.lastExit.signal ?? `code ${s.lastExit.code}`} at ${s.lastExit.at})` : ''}`,
      fix: `the manager keeps starting it again; see its log for krb5kdc's own words (is ${listen} taken, or ${kerberos.files.dir} damaged?)`,
    };
  }
  const host = ['', '0.0.0.0', '::'].includes(kerberos.listen.host) ? '127.0.0.1' : kerberos.listen.host;
  const answered = await new Promise<string | null>((resolve) => {
    const socket = connect({ host, port: kerberos.listen.port, timeout: 2000 }, () => {
      socket.destroy();
      resolve(null);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve('no answer within 2 s');
    });
    socket.once('error', (err) => resolve(err.message));
  });
  if (answered)
    return {
      name: 'kerberos-kdc',
      status: 'fail',
      message: `the KDC (pid ${s.pid}) does not accept connections on ${listen}: ${answered}`,
      fix: 'restart the manager',
    };
  return {
    name: 'kerberos-kdc',
    status: 'ok',
    message: `the KDC for ${realm} serves on ${listen} (pid ${s.pid}, restarted ${s.restarts} times)`,
  };
}

/** The database, its stash and everything else of the realm: open to their owner only. */
async function files(kerberos: KerberosService): Promise<KerberosCheck> {
  const dir = kerberos.files.dir;
  const open: string[] = [];
  const walk = async (p: string): Promise<void> => {
    const s = await lstat(p).catch(() => undefined);
    if (!s) return;
    if ((s.mode & 0o077) !== 0) open.push(`${p} (${(s.mode & 0o777).toString(8).padStart(4, '0')})`);
    if (s.isDirectory()) for (const name of await readdir(p)) await walk(join(p, name));
  };
  await walk(dir);
  if (!open.length)
    return { name: 'kerberos-files', status: 'ok', message: `${dir} (the realm's database and stash) is open to its owner only` };
  return { name: 'kerberos-files', status: 'fail', message: `group or others can read ${open.join(', ')}`, fix: `chmod -R go-rwx ${dir}` };
}

async function principals(kerberos: KerberosService, users: readonly { uid: string; hasPassword: boolean }[]): Promise<KerberosCheck> {
  const have = new Set((await kerberos.principals()).users.map((p) => p.replace(/@[^@]*$/, '')));
  const waiting = users.filter((u) => u.hasPassword && !have.has(u.uid)).map((u) => u.uid);
  const count = users.filter((u) => have.has(u.uid)).length;
  if (!waiting.length)
    return { name: 'kerberos-principals', status: 'ok', message: `${count} directory user(s) have their principal in ${kerberos.realm}` };
  // Not a failure: the manager keeps only password hashes, so these can only be set at the next change.
  return {
    name: 'kerberos-principals',
    status: 'ok',
    message: `${count} user(s) have their principal; ${waiting.length} from before the realm have none yet (${waiting.slice(0, 10).join(', ')}${waiting.length > 10 ? ', …' : ''}): each gets one at the next storm user passwd`,
  };
}
