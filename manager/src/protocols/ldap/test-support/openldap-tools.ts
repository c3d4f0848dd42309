/**
 * The OpenLDAP command-line clients (Debian's `ldap-utils`) for integration tests: run one with a
 * deadline, and read `ldapsearch -LLL` output back as entries.
 *
 * @example
 * const r = await ldapTool('ldapwhoami', ['-x', '-H', url, '-D', dn, '-w', pw]);
 * r.code;   // 0, or the LDAP result code (49 …) the tool exits with
 * parseLdif(r.stdout); // [{ dn, attributes: { uid: ['alice'] } }]
 */
import { spawn } from 'node:child_process';

export interface ToolResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `env` is added to this process's environment (e.g. `LDAPTLS_CACERT` for StartTLS). */
export function ldapTool(
  command: string,
  args: readonly string[],
  stdin = '',
  timeoutMs = 15_000,
  env: NodeJS.ProcessEnv = {},
): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    // Stopped by its own pid if it hangs; never by name.
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(stdin);
  });
}

export interface LdifEntry {
  readonly dn: string;
  readonly attributes: Record<string, string[]>;
}

/** `ldapsearch -LLL` output (with `-o ldif-wrap=no`): entries separated by blank lines; base64 values decoded. */
export function parseLdif(text: string): LdifEntry[] {
  const entries: LdifEntry[] = [];
  for (const block of text.split(/\n\s*\n/)) {
    const lines = block.split('\n').filter((l) => l && !l.startsWith('#'));
    if (!lines.length) continue;
    let dn = '';
    const attributes: Record<string, string[]> = {};
    for (const line of lines) {
      const m = /^([^:]+)(::?) ?(.*)$/.exec(line);
      if (!m) continue;
      const value = m[2] === '::' ? Buffer.from(m[3]!, 'base64').toString('utf8') : m[3]!;
      if (m[1] === 'dn') dn = value;
      else (attributes[m[1]!] ??= []).push(value);
    }
    entries.push({ dn, attributes });
  }
  return entries;
}
