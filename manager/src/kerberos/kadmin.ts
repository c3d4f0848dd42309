/**
 * The realm's database through MIT's `kadmin.local`, one command at a time (it locks the database
 * per run). Passwords go to its prompts on stdin, never into argv where `ps` would show them;
 * principal names are STORM's own (validated uids, instance names, service names), so they need no
 * quoting. Success is read from kadmin's own confirmation line: it exits 0 on errors too.
 *
 * @example
 * const kadmin = new Kadmin(files, 'STORM.INTERNAL');
 * await kadmin.setPassword('alice', 'wonderland-2026');
 * await kadmin.randomKey('host/web1.storm.internal');
 * const keytab = await kadmin.keytab(['host/web1.storm.internal']); // the bytes of a keytab file
 */
import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { MgrErr } from '../errors.js';
import { type KdcFiles, lastLine } from './kdc-files.js';
import { runMit } from './mit-tools.js';

/** kadmin.local reads a password into a 1024-byte buffer with its newline: longer ones are cut, silently. */
export const KERBEROS_PASSWORD_MAX_BYTES = 1022;
const PRINCIPAL = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9.-]*)?$/;

/** A password the KDC can take exactly as given: no line breaks or NUL, at most 1022 bytes. */
export function checkKerberosPassword(password: string): string {
  if (/[\r\n\0]/.test(password)) throw MgrErr.MGR_ERR_VALIDATION('password: Kerberos cannot take line breaks or NUL in a password');
  if (Buffer.byteLength(password, 'utf8') > KERBEROS_PASSWORD_MAX_BYTES)
    throw MgrErr.MGR_ERR_VALIDATION(`password: Kerberos takes at most ${KERBEROS_PASSWORD_MAX_BYTES} bytes`);
  return password;
}

export class Kadmin {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly files: KdcFiles,
    readonly realm: string,
  ) {}

  /** Every principal of the realm (with `@REALM`), optionally those matching a kadmin glob. */
  async list(glob?: string): Promise<string[]> {
    if (glob !== undefined && !/^[A-Za-z0-9._*/@-]+$/.test(glob))
      throw MgrErr.MGR_ERR_VALIDATION(`principal pattern ${JSON.stringify(glob)}`);
    const r = await this.run(glob ? `listprincs ${glob}` : 'listprincs');
    if (/^get_principals:/m.test(r.stderr)) throw MgrErr.MGR_ERR_KDC(`listprincs: ${lastLine(r.stderr)}`);
    // One principal per line; kadmin's own lines ("Authenticating as …") have spaces.
    return r.stdout
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.includes('@') && !l.includes(' '));
  }

  async exists(principal: string): Promise<boolean> {
    const r = await this.run(`getprinc ${this.name(principal)}`);
    if (r.stdout.includes(`Principal: ${this.full(principal)}`)) return true;
    if (/Principal does not exist/.test(r.stderr)) return false;
    throw MgrErr.MGR_ERR_KDC(`getprinc ${principal}: ${lastLine(r.stderr)}`);
  }

  /** Creates the principal with this password, or changes its password (and so its keys). */
  async setPassword(principal: string, password: string): Promise<void> {
    checkKerberosPassword(password);
    const p = this.name(principal);
    const input = `${password}\n${password}\n`;
    let cmd = (await this.exists(p)) ? `cpw ${p}` : `addprinc ${p}`;
    let r = await this.run(cmd, input);
    // Created meanwhile by another request: change its password instead.
    if (cmd.startsWith('addprinc') && /already exists/.test(r.stderr)) r = await this.run((cmd = `cpw ${p}`), input);
    if (!this.confirmed(r.stdout, p, cmd.startsWith('cpw') ? 'changed' : 'created'))
      throw MgrErr.MGR_ERR_KDC(`${cmd.split(' ')[0]} ${p}: ${lastLine(r.stderr)}`);
  }

  /** Creates the principal with random keys, or gives it new random keys (old keytabs stop working). */
  async randomKey(principal: string): Promise<void> {
    const p = this.name(principal);
    let verb = (await this.exists(p)) ? 'cpw' : 'addprinc';
    let r = await this.run(`${verb} -randkey ${p}`);
    // Created meanwhile by another request: give it new keys instead.
    if (verb === 'addprinc' && /already exists/.test(r.stderr)) {
      verb = 'cpw';
      r = await this.run(`cpw -randkey ${p}`);
    }
    if (!this.confirmed(r.stdout, p, verb === 'cpw' ? 'randomized' : 'created'))
      throw MgrErr.MGR_ERR_KDC(`${verb} -randkey ${p}: ${lastLine(r.stderr)}`);
  }

  /** Deletes the principal; false when there was none (so undo and destroy may call it blindly). */
  async remove(principal: string): Promise<boolean> {
    const p = this.name(principal);
    const r = await this.run(`delprinc -force ${p}`);
    if (this.confirmed(r.stdout, p, 'deleted')) return true;
    if (/Principal does not exist/.test(r.stderr)) return false;
    throw MgrErr.MGR_ERR_KDC(`delprinc ${p}: ${lastLine(r.stderr)}`);
  }

  /** A keytab holding the current keys of `principals`, without changing them (`ktadd -norandkey`). */
  async keytab(principals: readonly string[]): Promise<Buffer> {
    if (!principals.length) throw MgrErr.MGR_ERR_VALIDATION('a keytab needs at least one principal');
    const names = principals.map((p) => this.name(p));
    const file = join(this.files.tmp, `${randomBytes(12).toString('hex')}.keytab`);
    try {
      const r = await this.run(`ktadd -k ${file} -norandkey ${names.join(' ')}`);
      const missing = names.filter((n) => !r.stdout.includes(`Entry for principal ${n} with kvno`));
      if (missing.length) throw MgrErr.MGR_ERR_KDC(`ktadd ${missing.join(' ')}: ${lastLine(r.stderr)}`);
      return await readFile(file);
    } finally {
      await rm(file, { force: true });
    }
  }

  /** `p` checked and without the realm (kadmin adds the default realm, which is ours). */
  private name(principal: string): string {
    const p = principal.endsWith(`@${this.realm}`) ? principal.slice(0, -this.realm.length - 1) : principal;
    if (!PRINCIPAL.test(p) || p.length > 255) throw MgrErr.MGR_ERR_VALIDATION(`principal ${JSON.stringify(principal)}`);
    return p;
  }

  private full(principal: string): string {
    return `${this.name(principal)}@${this.realm}`;
  }

  /** kadmin's confirmation: `Principal "p@R" created.`, `Password for "p@R" changed.`, `Key for "p@R" randomized.`, `… deleted.` */
  private confirmed(stdout: string, p: string, verb: string): boolean {
    return stdout.includes(`"${p}@${this.realm}" ${verb}.`);
  }

  /** One kadmin.local run, after the previous one finished. */
  private run(query: string, input = ''): Promise<{ stdout: string; stderr: string }> {
    const next = this.queue.then(async () => {
      const r = await runMit(this.files, 'kadmin.local', ['-r', this.realm, '-q', query], { input });
      if (r.code !== 0) throw MgrErr.MGR_ERR_KDC(`kadmin.local ${query.split(' ')[0]}: ${lastLine(r.stderr || r.stdout)}`);
      return { stdout: r.stdout, stderr: r.stderr };
    });
    this.queue = next.catch(() => undefined);
    return next;
  }
}
