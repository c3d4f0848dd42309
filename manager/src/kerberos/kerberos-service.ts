/**
 * The realm the manager runs (`--kdc-listen HOST:PORT`): MIT's KDC supervised as a child, its
 * database under the data folder, principals kept in step with the directory and the instances
 * (`PrincipalSync`), keytabs for guests, the realm's DNS records, and its state for the API,
 * `storm doctor` and the console.
 *
 * @example
 * const kerberos = new KerberosService({ dataDir, domain: 'storm.internal', listen: '10.77.0.1:88', log });
 * await kerberos.start();
 * await kerberos.userPasswordSet('alice', 'wonderland-2026');
 * const { keytab } = await kerberos.keytabFor('web1', []);
 * await kerberos.close();
 */
import { parseHostPort } from '../../../common/config.js';
import { errorMessage } from '../../../common/errors.js';
import { Kadmin, checkKerberosPassword } from './kadmin.js';
import { type KdcFiles, kdcFiles, prepareRealm } from './kdc-files.js';
import { KdcSupervisor, type KdcStatus } from './kdc-supervisor.js';
import type { PrincipalSync } from './principal-sync.js';
import { classifyPrincipal, instancePrincipals, realmOf } from './realm.js';

export interface KerberosServiceOptions {
  readonly dataDir: string;
  /** The appliance domain; the realm is its upper case. */
  readonly domain: string;
  /** `--kdc-listen`, UDP and TCP. */
  readonly listen: string;
  readonly log: (level: 'debug' | 'info' | 'warn' | 'error', msg: string) => void;
  readonly onState?: (status: KdcStatus) => void;
  /** Test seams: the restart delay of the supervisor. */
  readonly restartDelayMs?: number;
}

export interface RealmPrincipals {
  readonly users: readonly string[];
  /** Instance principals by instance name (the part of the fqdn before the domain). */
  readonly instances: Readonly<Record<string, readonly string[]>>;
  /** Principals that are neither: the KDC's own, or names outside the appliance domain. */
  readonly other: readonly string[];
}

export interface IssuedKeytab {
  readonly realm: string;
  readonly principals: readonly string[];
  readonly keytab: Buffer;
}

export class KerberosService implements PrincipalSync {
  /** Its protocol, as the manager's other network services name theirs. */
  readonly name = 'kerberos';
  readonly realm: string;
  readonly files: KdcFiles;
  readonly kadmin: Kadmin;
  readonly kdc: KdcSupervisor;
  readonly listen: { readonly host: string; readonly port: number };
  private prepared = false;

  constructor(private readonly opts: KerberosServiceOptions) {
    this.realm = realmOf(opts.domain);
    this.files = kdcFiles(opts.dataDir);
    this.kadmin = new Kadmin(this.files, this.realm);
    this.listen = parseHostPort(opts.listen, 'kdc-listen');
    this.kdc = new KdcSupervisor({
      files: this.files,
      log: opts.log,
      ...(opts.onState ? { onState: opts.onState } : {}),
      ...(opts.restartDelayMs === undefined ? {} : { restartDelayMs: opts.restartDelayMs }),
    });
  }

  /** The profiles and the database (created on first use): principals can be set from here on. */
  async prepare(): Promise<void> {
    if (this.prepared) return;
    const { created, loaded } = await prepareRealm(this.files, { realm: this.realm, domain: this.opts.domain, listen: this.listen });
    if (created) this.opts.log('info', `Kerberos realm ${this.realm} created in ${this.files.dir}`);
    if (loaded) this.opts.log('info', `Kerberos realm ${this.realm} loaded from the restored backup's dump`);
    this.prepared = true;
  }

  /** Prepares the realm when that has not happened, then runs the KDC until `close()`. */
  async start(): Promise<void> {
    await this.prepare();
    await this.kdc.start();
    this.opts.log('info', `Kerberos KDC for ${this.realm} on ${this.opts.listen} (pid ${this.kdc.status().pid})`);
  }

  close(): Promise<void> {
    return this.kdc.stop();
  }

  /** Where the KDC listens, e.g. `udp+tcp 10.77.0.1:88`. */
  listensOn(): string {
    return `udp+tcp ${this.opts.listen}`;
  }

  fqdn(name: string): string {
    return `${name}.${this.opts.domain}`;
  }

  // ── PrincipalSync ─────────────────────────────────────────────────────────────────────

  checkPassword(password: string): void {
    checkKerberosPassword(password);
  }

  userPasswordSet(uid: string, password: string): Promise<void> {
    return this.kadmin.setPassword(uid, password);
  }

  async userRemoved(uid: string): Promise<void> {
    try {
      await this.kadmin.remove(uid);
    } catch (err) {
      this.opts.log('warn', `Kerberos: ${uid}@${this.realm} not removed yet (${errorMessage(err)}); the next reconcile retries`);
    }
  }

  async instanceAdded(inst: { readonly name: string; readonly services: readonly string[] }): Promise<string[]> {
    const names = instancePrincipals(this.fqdn(inst.name), inst.services);
    // Fresh keys even when a principal of that name lingers: an old keytab never works for a new instance.
    for (const p of names) await this.kadmin.randomKey(p);
    return names.map((p) => `${p}@${this.realm}`);
  }

  async instanceRemoved(name: string): Promise<void> {
    try {
      for (const p of await this.kadmin.list(`*/${this.fqdn(name)}@${this.realm}`)) await this.kadmin.remove(p);
    } catch (err) {
      this.opts.log(
        'warn',
        `Kerberos: principals of ${this.fqdn(name)} not removed yet (${errorMessage(err)}); the next reconcile retries`,
      );
    }
  }

  // ── guests ────────────────────────────────────────────────────────────────────────────

  /**
   * The keytab of one instance: its host principal and its declared services, at their current keys.
   * A principal missing (the instance is older than the realm) is created first.
   */
  async keytabFor(name: string, services: readonly string[]): Promise<IssuedKeytab> {
    const names = instancePrincipals(this.fqdn(name), services);
    for (const p of names) if (!(await this.kadmin.exists(p))) await this.kadmin.randomKey(p);
    return { realm: this.realm, principals: names.map((p) => `${p}@${this.realm}`), keytab: await this.kadmin.keytab(names) };
  }

  /** What a guest needs to write its krb5.conf: the realm and the KDC, by the manager's name. */
  guestInfo(): { realm: string; kdc: string } {
    return { realm: this.realm, kdc: `storm.local:${this.listen.port}` };
  }

  /** The realm's DNS records: `_kerberos` TXT naming the realm, SRV for the KDC over UDP and TCP. */
  dnsRecords(): { type: 'SRV' | 'TXT'; name: string; value: string }[] {
    const d = this.opts.domain;
    const srv = `0 0 ${this.listen.port} storm.local`;
    return [
      { type: 'TXT', name: `_kerberos.${d}`, value: this.realm },
      { type: 'SRV', name: `_kerberos._udp.${d}`, value: srv },
      { type: 'SRV', name: `_kerberos._tcp.${d}`, value: srv },
    ];
  }

  // ── state ─────────────────────────────────────────────────────────────────────────────

  async principals(): Promise<RealmPrincipals> {
    const users: string[] = [];
    const instances: Record<string, string[]> = {};
    const other: string[] = [];
    const suffix = `.${this.opts.domain}`;
    for (const p of await this.kadmin.list()) {
      const c = classifyPrincipal(p);
      if (c.kind === 'user') users.push(p);
      else if (c.kind === 'instance' && c.fqdn.endsWith(suffix) && !c.fqdn.slice(0, -suffix.length).includes('.'))
        (instances[c.fqdn.slice(0, -suffix.length)] ??= []).push(p);
      else other.push(p);
    }
    return { users, instances, other };
  }

  /**
   * Removes principals whose user or instance no longer exists. The principals are listed before
   * the live names are read: a principal made after a row committed is never taken for stale.
   */
  async prune(live: { users: () => Promise<Iterable<string>>; instances: () => Promise<Iterable<string>> }): Promise<string[]> {
    const found = await this.principals();
    const users = new Set(await live.users());
    const instances = new Set(await live.instances());
    const stale = [
      ...found.users.filter((p) => !users.has(p.replace(/@.*$/, ''))),
      ...Object.entries(found.instances)
        .filter(([name]) => !instances.has(name))
        .flatMap(([, ps]) => ps),
    ];
    for (const p of stale) await this.kadmin.remove(p);
    return stale;
  }

  status(): { realm: string; listen: string; kdc: KdcStatus; files: string } {
    return { realm: this.realm, listen: this.opts.listen, kdc: this.kdc.status(), files: this.files.dir };
  }
}
