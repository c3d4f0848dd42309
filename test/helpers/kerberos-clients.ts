/**
 * MIT Kerberos's own clients (krb5-user: kinit, kvno, klist, kdestroy) for tests, each run with a
 * given krb5.conf and a private credential cache, never the machine's /etc/krb5.conf or the
 * caller's tickets.
 *
 * @example
 * const c = kerberosClient(join(dataDir, 'kerberos', 'krb5.conf'), tmpDir);
 * expect((await c.kinit('alice', 'wonderland-2026')).code).toBe(0);
 * expect((await c.kvno('host/web1.storm.internal')).code).toBe(0);
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

export interface ClientResult {
  readonly code: number | null;
  readonly output: string;
}

function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv, input = ''): Promise<ClientResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: { PATH: `${process.env['PATH'] ?? ''}:/usr/sbin:/usr/bin:/sbin:/bin`, LANG: 'C', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (b: Buffer) => (output += b.toString()));
    child.stderr.on('data', (b: Buffer) => (output += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}

export interface KerberosClient {
  /** `kinit principal` answering the password prompt on stdin. */
  kinit(principal: string, password: string): Promise<ClientResult>;
  /** `kinit -k -t keytab principal`. */
  kinitKeytab(keytab: string, principal: string): Promise<ClientResult>;
  /** `kvno principal` with the tickets `kinit` got. */
  kvno(principal: string): Promise<ClientResult>;
  /** `klist -k keytab`: the principals a keytab holds. */
  klistKeytab(keytab: string): Promise<ClientResult>;
  kdestroy(): Promise<ClientResult>;
}

export function kerberosClient(krb5Conf: string, dir: string, name = 'cc'): KerberosClient {
  const env = { KRB5_CONFIG: krb5Conf, KRB5CCNAME: `FILE:${join(dir, name)}` };
  return {
    kinit: (principal, password) => run('kinit', [principal], env, `${password}\n`),
    kinitKeytab: (keytab, principal) => run('kinit', ['-k', '-t', keytab, principal], env),
    kvno: (principal) => run('kvno', [principal], env),
    klistKeytab: (keytab) => run('klist', ['-k', keytab], env),
    kdestroy: () => run('kdestroy', [], env),
  };
}
