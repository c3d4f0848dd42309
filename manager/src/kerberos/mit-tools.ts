/**
 * Runs MIT Kerberos's own tools (`kdb5_util`, `kadmin.local`, `krb5kdc`) against the manager's realm
 * only: every run gets KRB5_CONFIG and KRB5_KDC_PROFILE pointing into the data folder, so neither
 * `/etc/krb5.conf` nor `/etc/krb5kdc` is ever read or written.
 *
 * @example
 * const r = await runMit(files, 'kadmin.local', ['-q', 'listprincs']);
 * r.stdout.split('\n');
 */
import { spawn } from 'node:child_process';
import { MgrErr } from '../errors.js';
import type { KdcFiles } from './kdc-files.js';

/** Debian installs the KDC tools in /usr/sbin, which a service's PATH may lack. */
const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface MitResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The environment of every MIT tool STORM runs: its own profiles, no credential cache of anyone's. */
export function mitEnv(files: Pick<KdcFiles, 'krb5Conf' | 'kdcConf'>): NodeJS.ProcessEnv {
  return {
    PATH: `${process.env['PATH'] ?? ''}:${SYSTEM_PATH}`,
    LANG: 'C',
    KRB5_CONFIG: files.krb5Conf,
    KRB5_KDC_PROFILE: files.kdcConf,
    KRB5CCNAME: 'MEMORY:storm',
  };
}

/** Runs `command`, feeding `input` on stdin (passwords travel there, never in argv); bounded by `timeoutMs`. */
export function runMit(
  files: Pick<KdcFiles, 'krb5Conf' | 'kdcConf'>,
  command: string,
  args: readonly string[],
  opts: { input?: string; timeoutMs?: number } = {},
): Promise<MitResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: mitEnv(files), stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (e.code === 'ENOENT')
        reject(
          MgrErr.MGR_ERR_KDC(
            `${command} not found: install Debian's krb5-kdc and krb5-admin-server (scripts/setup.sh does), or start without --kdc-listen`,
          ),
        );
      else reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
    // A tool that exits before reading its input closes the pipe; that is its answer, not ours to throw.
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}
