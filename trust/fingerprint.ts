/**
 * Certificate fingerprints as STORM writes them: `sha256:<64 lowercase hex>` of the DER. The
 * enrolment token carries the CA's, so a joining host can pin the manager's CA before trusting it.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { PkiErr } from './errors.js';

const FINGERPRINT = /^sha256:[0-9a-f]{64}$/;

/**
 * Fingerprint of a certificate (PEM, or DER bytes); for a PEM bundle, of its first certificate.
 *
 * @example
 * certificateFingerprint(ca.certPem); // 'sha256:3b1f…'
 */
export function certificateFingerprint(cert: string | Buffer): string {
  const der = typeof cert === 'string' ? new X509Certificate(cert).raw : cert;
  return `sha256:${createHash('sha256').update(der).digest('hex')}`;
}

/**
 * The 32 digest bytes of a fingerprint, after checking its form.
 *
 * @example
 * fingerprintBytes('sha256:' + '00'.repeat(32)).length; // 32
 */
export function fingerprintBytes(fingerprint: string): Buffer {
  if (!FINGERPRINT.test(fingerprint)) throw PkiErr.MGR_ERR_PKI_FINGERPRINT_INVALID(JSON.stringify(fingerprint));
  return Buffer.from(fingerprint.slice('sha256:'.length), 'hex');
}

/** The fingerprint form of 32 digest bytes. */
export function fingerprintFromBytes(digest: Buffer): string {
  if (digest.length !== 32) throw PkiErr.MGR_ERR_PKI_FINGERPRINT_INVALID(`${digest.length} bytes, expected 32`);
  return `sha256:${digest.toString('hex')}`;
}
