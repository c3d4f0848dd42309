/**
 * The realm's files under the manager's data folder (`<data>/kerberos/`, 0700): the KDC's profile
 * (`kdc.conf`), the client profile the manager's own MIT tools use (`krb5.conf`), the database and
 * its stash, all 0600. `prepareRealm` writes the profiles at every start (they follow the flags) and
 * creates the database once, with a random master password that only the stash keeps.
 *
 * @example
 * const files = kdcFiles('/var/lib/storm/manager');
 * await prepareRealm(files, { realm: 'STORM.INTERNAL', listen: { host: '10.77.0.1', port: 88 } });
 */
import { randomBytes } from 'node:crypto';
import { access, chmod, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MgrErr } from '../errors.js';
import { runMit } from './mit-tools.js';

export interface KdcFiles {
  readonly dir: string;
  readonly kdcConf: string;
  readonly krb5Conf: string;
  readonly database: string;
  readonly stash: string;
  readonly acl: string;
  /** Which realm the database holds, so a changed --domain is refused rather than served wrongly. */
  readonly realmFile: string;
  /** Keytabs are exported here for a moment, then read and deleted. */
  readonly tmp: string;
  /** A restored backup's copy of the database (`kdb5_util dump`), loaded at the next start. */
  readonly dump: string;
}

export interface KdcListen {
  readonly host: string;
  readonly port: number;
}

export function kdcFiles(dataDir: string): KdcFiles {
  const dir = join(dataDir, 'kerberos');
  return {
    dir,
    kdcConf: join(dir, 'kdc.conf'),
    krb5Conf: join(dir, 'krb5.conf'),
    database: join(dir, 'principal'),
    stash: join(dir, 'stash'),
    acl: join(dir, 'kadm5.acl'),
    realmFile: join(dir, 'realm'),
    tmp: join(dir, 'tmp'),
    dump: join(dir, 'principal.dump'),
  };
}

const WILDCARD = new Set(['', '0.0.0.0', '::']);
const hostPort = (host: string, port: number) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

/** The KDC's profile: where it listens, where its database is, no SPAKE (it would need groups configured). */
export function renderKdcConf(files: KdcFiles, realm: string, listen: KdcListen): string {
  // A bare port listens on every address; MIT reads 0.0.0.0 as a host to bind.
  const at = WILDCARD.has(listen.host) ? String(listen.port) : hostPort(listen.host, listen.port);
  return [
    '# Written by the STORM manager at every start; edits are lost.',
    '[kdcdefaults]',
    ` kdc_listen = ${at}`,
    ` kdc_tcp_listen = ${at}`,
    '',
    '[realms]',
    ` ${realm} = {`,
    `  database_name = ${files.database}`,
    `  key_stash_file = ${files.stash}`,
    `  acl_file = ${files.acl}`,
    '  max_life = 10h 0m 0s',
    '  max_renewable_life = 7d 0h 0m 0s',
    // Pre-authentication for everyone: no AS reply to crack offline for a principal one merely names.
    '  default_principal_flags = +preauth',
    '  supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal',
    ' }',
    '',
    '[plugins]',
    ' kdcpreauth = {',
    '  disable = spake',
    ' }',
    '',
    '[logging]',
    ' kdc = STDERR',
    ' default = STDERR',
    '',
  ].join('\n');
}

/** A client profile for the realm, the manager's own tools and administrators on this machine. */
export function renderKrb5Conf(realm: string, domain: string, listen: KdcListen): string {
  const host = WILDCARD.has(listen.host) ? '127.0.0.1' : listen.host;
  return [
    '# Written by the STORM manager at every start; edits are lost.',
    '[libdefaults]',
    ` default_realm = ${realm}`,
    ' dns_lookup_kdc = false',
    ' dns_lookup_realm = false',
    ' rdns = false',
    ' dns_canonicalize_hostname = false',
    '',
    '[realms]',
    ` ${realm} = {`,
    `  kdc = ${hostPort(host, listen.port)}`,
    ' }',
    '',
    '[domain_realm]',
    ` .${domain} = ${realm}`,
    ` ${domain} = ${realm}`,
    '',
  ].join('\n');
}

/**
 * Writes the profiles, creates the database on first use (or loads the dump a restored backup left),
 * and leaves nothing readable by others.
 */
export async function prepareRealm(
  files: KdcFiles,
  opts: { realm: string; domain: string; listen: KdcListen },
): Promise<{ created: boolean; loaded: boolean }> {
  await mkdir(files.dir, { recursive: true, mode: 0o700 });
  await chmod(files.dir, 0o700);
  await rm(files.tmp, { recursive: true, force: true });
  await mkdir(files.tmp, { mode: 0o700 });
  const exists = (p: string) =>
    access(p).then(
      () => true,
      () => false,
    );
  const existing = await readFile(files.realmFile, 'utf8').then(
    (t) => t.trim(),
    () => null,
  );
  const [haveDb, haveStash, haveDump] = await Promise.all([exists(files.database), exists(files.stash), exists(files.dump)]);
  // Checked before any file is written: a refused start leaves the realm's profiles as they were.
  if (existing && existing !== opts.realm && (haveDb || haveStash)) {
    throw MgrErr.MGR_ERR_KDC(
      `${files.dir} holds the realm ${existing}, but --domain gives ${opts.realm}; start with the old --domain, or move ${files.dir} away to begin a new realm (every principal is lost)`,
    );
  }
  if (!haveDb && haveStash && !haveDump) {
    throw MgrErr.MGR_ERR_KDC(
      `${files.dir} has the realm's stash but no database: restore the folder from a backup, or move it away to begin a new realm (every principal is lost)`,
    );
  }
  await writeFile(files.kdcConf, renderKdcConf(files, opts.realm, opts.listen), { mode: 0o600 });
  await writeFile(files.krb5Conf, renderKrb5Conf(opts.realm, opts.domain, opts.listen), { mode: 0o600 });
  // No kadmind runs, so nobody is granted remote administration.
  await writeFile(files.acl, '', { mode: 0o600 });
  let created = false;
  let loaded = false;
  if (!haveDb && haveStash) {
    // A restored backup: the dump is encrypted with the master key the stash holds.
    const r = await runMit(files, 'kdb5_util', ['load', files.dump]);
    if (r.code !== 0) throw MgrErr.MGR_ERR_KDC(`kdb5_util load ${files.dump} failed: ${lastLine(r.stderr || r.stdout)}`);
    await rm(files.dump, { force: true });
    loaded = true;
  } else if (!haveDb) {
    // A random master password, said twice on stdin and never kept: the stash holds the key.
    const master = randomBytes(32).toString('base64');
    const r = await runMit(files, 'kdb5_util', ['create', '-s', '-r', opts.realm], { input: `${master}\n${master}\n` });
    if (r.code !== 0) throw MgrErr.MGR_ERR_KDC(`kdb5_util create failed: ${lastLine(r.stderr || r.stdout)}`);
    created = true;
  }
  if (existing !== opts.realm) await writeFile(files.realmFile, `${opts.realm}\n`, { mode: 0o600 });
  await privateModes(files.dir);
  return { created, loaded };
}

/**
 * A consistent copy of the realm's database, taken beside a running KDC (`kdb5_util dump` reads under
 * the database's lock); with the stash it is the whole realm. Used by `storm-manager backup`.
 */
export async function dumpRealm(files: KdcFiles, to: string): Promise<void> {
  const r = await runMit(files, 'kdb5_util', ['dump', to]);
  await rm(`${to}.dump_ok`, { force: true });
  if (r.code !== 0) throw MgrErr.MGR_ERR_KDC(`kdb5_util dump failed: ${lastLine(r.stderr || r.stdout)}`);
}

/** Every file in the realm's folder 0600, every folder 0700: the database and stash are key material. */
export async function privateModes(dir: string): Promise<void> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      await chmod(p, 0o700);
      await privateModes(p);
    } else if (e.isFile()) await chmod(p, 0o600);
  }
}

export function lastLine(text: string): string {
  return text.trim().split('\n').filter(Boolean).at(-1) ?? 'no output';
}
