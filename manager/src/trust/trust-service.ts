/**
 * The manager's trust: its CA, its own client and HTTPS certificates, revocations and the current
 * CRL, enrolment tokens, and the TLS options of every connection it makes or accepts. Listeners
 * are told when the CRL changes, so TLS contexts reload without a restart. The CRL is re-issued on
 * every revocation and, by a timer, once a day: it never comes near its 30-day nextUpdate while the
 * manager runs, and hosts get each new one with their next heartbeat answer.
 *
 * @example
 * const trust = await TrustService.open({ dir: join(data, 'pki'), db, serverNames: ['127.0.0.1'] });
 * Fastify({ https: trust.httpsOptions() });
 * trust.dialOptions('10.0.0.5'); // mutual TLS towards a stormd
 */
import { X509Certificate } from 'node:crypto';
import type { ConnectionOptions, TlsOptions } from 'node:tls';
import type { Database } from '../db/database.js';
import {
  CertificateAuthority,
  clientTlsOptions,
  httpsServerOptions,
  LIBVIRT_CLIENT_COMMON_NAME,
  loadOrIssueManagerIdentity,
  MANAGER_COMMON_NAME,
  STORM_LOCAL_NAME,
  type IssuedCertificate,
  type ManagerIdentity,
} from '../../../trust/index.js';
import { ReservedNames } from './reserved-names.js';
import { EnrolmentTokens } from './enrolment-tokens.js';
import { SqliteRevocationStore } from './revocation-store.js';

export interface TrustOptions {
  readonly dir: string;
  readonly db: Database;
  /** Names and addresses the manager's HTTPS certificate carries (storm.local is always added). */
  readonly serverNames: readonly string[];
  /** More names and addresses of the manager (its other listeners) that no host may enrol under. */
  readonly reservedNames?: readonly string[];
  /** This machine's names: reserved, except for the local host. */
  readonly machineNames?: readonly string[];
  /** The CA's and the CRL timer's clock; tests pass another. */
  readonly clock?: () => Date;
}

/** A CRL this old is re-issued, so it always has at least 29 of its 30 days ahead. */
export const CRL_REISSUE_AFTER_MS = 86_400_000;
/** How often the timer looks at the CRL's age: a cheap comparison, often enough to follow a clock that jumps. */
export const CRL_CHECK_MS = 10_000;

export class TrustService {
  readonly managerName = MANAGER_COMMON_NAME;
  readonly tokens: EnrolmentTokens;
  readonly revocations: SqliteRevocationStore;
  /** What no host may be called or reached at: see reserved-names.ts. */
  readonly reserved: ReservedNames;
  private crl = '';
  private guestIdentity: { certPem: string; keyPem: string } | undefined;
  private crlNo = 0;
  /** When the current CRL was issued, by `clock`. */
  private crlIssuedAt = 0;
  /** Rebuilds run one after another, so a CRL never replaces a newer one. */
  private rebuilding: Promise<void> = Promise.resolve();
  private crlTimer: NodeJS.Timeout | undefined;
  private readonly crlListeners = new Set<(crlPem: string) => void>();

  private constructor(
    readonly ca: CertificateAuthority,
    readonly identity: ManagerIdentity,
    db: Database,
    private readonly serverNames: readonly string[],
    reserved: ReservedNames,
    private readonly clock: () => Date,
  ) {
    this.tokens = new EnrolmentTokens(db);
    this.revocations = new SqliteRevocationStore(db);
    this.reserved = reserved;
  }

  static async open(opts: TrustOptions): Promise<TrustService> {
    const clock = opts.clock ?? (() => new Date());
    const ca = await CertificateAuthority.loadOrCreate(opts.dir, { clock });
    const identity = await loadOrIssueManagerIdentity(opts.dir, ca, { serverNames: opts.serverNames, now: clock() });
    const names = [...new Set([...opts.serverNames, STORM_LOCAL_NAME])];
    const reserved = new ReservedNames([...names, MANAGER_COMMON_NAME, LIBVIRT_CLIENT_COMMON_NAME, ...(opts.reservedNames ?? [])], {
      machineNames: opts.machineNames ?? [],
    });
    const trust = new TrustService(ca, identity, opts.db, names, reserved, clock);
    await trust.rebuildCrl();
    return trust;
  }

  get caPem(): string {
    return this.ca.certPem;
  }

  get fingerprint(): string {
    return this.ca.fingerprint;
  }

  get crlPem(): string {
    return this.crl;
  }

  get crlNumber(): number {
    return this.crlNo;
  }

  /** The manager's listener: HTTPS with leaf + CA; client certificates asked for but optional (hosts send theirs, browsers none). */
  httpsOptions(): TlsOptions {
    return {
      ...httpsServerOptions({ cert: this.identity.https.certPem, key: this.identity.https.keyPem, caCert: this.ca.certPem }),
      requestCert: true,
      rejectUnauthorized: false,
      ca: this.ca.certPem,
      crl: this.crl,
    };
  }

  /**
   * The guests' listener: an ECDSA certificate with the manager role (cheap handshakes for a boot
   * storm; see ec-leaf.ts) and the same names, issued at start; OpenSSL's default security level,
   * since every guest client now checks it (openssl or curl).
   */
  guestTlsOptions(): TlsOptions {
    return { ...this.guestCertificate(), minVersion: 'TLSv1.2' };
  }

  /**
   * The directory's StartTLS: the guests' certificate (it names storm.local, which appliances dial)
   * with default OpenSSL settings, since LDAP clients are full TLS stacks.
   */
  directoryTlsOptions(): { cert: string; key: string } {
    return this.guestCertificate();
  }

  /** The guests' leaf and the CA as one chain, with its key; issued once, on first use. */
  private guestCertificate(): { cert: string; key: string } {
    this.guestIdentity ??= this.ca.issueEcServerCertificate(this.serverNames, { role: 'manager' });
    return { cert: `${this.guestIdentity.certPem.trimEnd()}\n${this.ca.certPem.trimEnd()}\n`, key: this.guestIdentity.keyPem };
  }

  /** Mutual TLS towards a stormd at `host` (the name or address dialled, which its certificate must carry). */
  dialOptions(host: string): ConnectionOptions {
    return clientTlsOptions({
      ca: this.ca.certPem,
      cert: this.identity.client.certPem,
      key: this.identity.client.keyPem,
      servername: host,
      crl: this.crl,
    });
  }

  issueHostCertificate(csrPem: string, hostName: string, altNames: readonly string[]): IssuedCertificate {
    return this.ca.issueHostCertificate(csrPem, { hostName, altNames: altNames.filter((n) => n !== hostName) });
  }

  async revoke(serial: string, reason?: string): Promise<void> {
    await this.revocations.revoke(serial, new Date(), reason);
    await this.rebuildCrl();
  }

  onCrlChange(listener: (crlPem: string) => void): () => void {
    this.crlListeners.add(listener);
    return () => this.crlListeners.delete(listener);
  }

  /** Re-issues the CRL when it is a day old (or the clock went back past it); true when it did. */
  async refreshCrl(): Promise<boolean> {
    const age = this.clock().getTime() - this.crlIssuedAt;
    if (age < CRL_REISSUE_AFTER_MS && age >= 0) return false;
    await this.rebuildCrl();
    return true;
  }

  /** Looks at the CRL's age every `CRL_CHECK_MS`; a failure is retried at the next look. */
  startCrlTimer(onError: (err: unknown) => void = () => undefined): void {
    if (this.crlTimer) return;
    this.crlTimer = setInterval(() => void this.refreshCrl().catch(onError), CRL_CHECK_MS);
    this.crlTimer.unref();
  }

  stopCrlTimer(): void {
    if (this.crlTimer) clearInterval(this.crlTimer);
    this.crlTimer = undefined;
  }

  private rebuildCrl(): Promise<void> {
    const run = this.rebuilding.then(async () => {
      const number = await this.revocations.nextCrlNumber();
      const issuedAt = this.clock().getTime();
      this.crl = this.ca.buildCrl(await this.revocations.list(), number);
      this.crlNo = number;
      this.crlIssuedAt = issuedAt;
      for (const fn of this.crlListeners) fn(this.crl);
    });
    this.rebuilding = run.catch(() => undefined);
    return run;
  }

  /** Serial (lowercase hex) of a PEM or DER certificate. */
  static serialOf(cert: string | Buffer): string {
    return new X509Certificate(cert).serialNumber.toLowerCase().replace(/^0+/, '');
  }
}
