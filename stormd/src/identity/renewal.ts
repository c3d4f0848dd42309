/**
 * Host certificate renewal. At start and then every 12 h, when the certificate has fewer than
 * `renewBeforeDays` left, stormd makes a new key, sends its CSR to the manager over mutual TLS
 * with the current certificate, checks the answer, stores the pair (crash-safe: see
 * host-identity.ts) and hands it to `apply`, which swaps it into the listener and the manager
 * client without a restart. The manager keeps the old certificate valid until the new one is first
 * used, so a failure anywhere leaves the host on a certificate that works; it tries again in an hour.
 *
 * @example
 * const renewal = new CertificateRenewal({ dataDir, caPem, certPem, hostName: 'host-1', renewBeforeDays: 30, send, apply, log });
 * renewal.start();
 * await renewal.stop();
 */
import { X509Certificate } from 'node:crypto';
import Type from 'typebox';
import Value from 'typebox/value';
import { errorMessage } from '../../../common/errors.js';
import { createCsr, generateKeyPair } from '../../../trust/index.js';
import type { RenewRequest } from '../../protocol.js';
import { StormdErr } from '../errors.js';
import { RepeatingTask } from '../repeating-task.js';
import { checkHostCertificate } from './check-certificate.js';
import { writeRenewedIdentity } from './host-identity.js';

export const RENEW_PATH = '/api/v1/hosts/renew';
const DAY_MS = 86_400_000;
const CHECK_EVERY_MS = 12 * 3600_000;
const RETRY_AFTER_FAILURE_MS = 3600_000;

const ResponseSchema = Type.Object({ certificate: Type.String({ minLength: 1, maxLength: 64 * 1024 }) });

export interface RenewalLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface RenewalOptions {
  readonly dataDir: string;
  readonly caPem: string;
  /** The certificate in use now. */
  readonly certPem: string;
  /** The CSR's common name (the manager issues for the name it enrolled, whatever this says). */
  readonly hostName: string;
  readonly renewBeforeDays: number;
  /** POSTs the request to the manager with the current certificate; resolves with its answer. */
  readonly send: (req: RenewRequest) => Promise<unknown>;
  /** Puts the stored pair to use (listener and manager client). */
  readonly apply: (pair: { certPem: string; keyPem: string }) => void;
  readonly log: RenewalLog;
}

/** True when the certificate expires within `renewBeforeDays` of `now`. */
export function renewalDue(certPem: string, renewBeforeDays: number, now = new Date()): boolean {
  return new Date(new X509Certificate(certPem).validTo).getTime() - now.getTime() < renewBeforeDays * DAY_MS;
}

export class CertificateRenewal {
  private certPem: string;
  // Unref'd: a twice-a-day check must not keep a stopping process alive.
  private readonly loop = new RepeatingTask(() => this.tick(), { unref: true });

  constructor(private readonly opts: RenewalOptions) {
    this.certPem = opts.certPem;
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** Renews when due; resolves true when it did. */
  async check(now = new Date()): Promise<boolean> {
    if (!renewalDue(this.certPem, this.opts.renewBeforeDays, now)) return false;
    await this.renew();
    return true;
  }

  /** One renewal: new key, CSR, the manager's certificate checked, stored, applied. */
  async renew(): Promise<void> {
    const bad = (why: string) => StormdErr.STORMD_ERR_MANAGER_RESPONSE(`${RENEW_PATH}: ${why}`);
    const { privateKeyPem } = await generateKeyPair();
    const answer = await this.opts.send({ csr: createCsr(privateKeyPem, this.opts.hostName) });
    if (!Value.Check(ResponseSchema, answer)) throw bad('not { certificate }');
    const { cert, clientAuth } = checkHostCertificate(answer.certificate, new X509Certificate(this.opts.caPem), privateKeyPem, bad);
    // Without clientAuth the host could no longer reach its manager at all: keep the old one.
    if (!clientAuth) throw bad('the certificate has no clientAuth');
    await writeRenewedIdentity(this.opts.dataDir, { keyPem: privateKeyPem, certPem: answer.certificate });
    this.certPem = answer.certificate;
    this.opts.apply({ certPem: answer.certificate, keyPem: privateKeyPem });
    this.opts.log.info(
      { serial: cert.serialNumber.toLowerCase(), notAfter: new Date(cert.validTo).toISOString() },
      'renewed the host certificate',
    );
  }

  /** One round of the loop; answers the wait before the next. */
  private async tick(): Promise<number> {
    try {
      await this.check();
      return CHECK_EVERY_MS;
    } catch (err) {
      this.opts.log.warn(
        { reason: errorMessage(err), retryInMs: RETRY_AFTER_FAILURE_MS },
        'certificate renewal failed; the current certificate stays in use',
      );
      return RETRY_AFTER_FAILURE_MS;
    }
  }
}
