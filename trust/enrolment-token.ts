/**
 * Enrolment tokens: `storm1.<id>.<secret>.<ca-fingerprint>`.
 *
 * - `id`: 16 lowercase hex digits (64 random bits), the database key; safe to log.
 * - `secret`: 32 random bytes, base64url (43 characters); the manager keeps only its hash.
 * - `ca-fingerprint`: the 32-byte SHA-256 of the CA certificate's DER, base64url (43 characters);
 *   the joining host pins the manager's CA with it before it sends anything (kubeadm's discovery hash).
 *
 * Single use and expiry live with the caller's database row; these functions are pure.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { PkiErr } from './errors.js';
import { fingerprintBytes, fingerprintFromBytes } from './fingerprint.js';

export const TOKEN_VERSION = 'storm1';

export interface EnrolmentToken {
  readonly id: string;
  readonly secret: string;
  /** `sha256:<hex>` of the CA certificate. */
  readonly caFingerprint: string;
}

const TOKEN = /^storm1\.([0-9a-f]{16})\.([A-Za-z0-9_-]{43})\.([A-Za-z0-9_-]{43})$/;
const HASH = /^sha256:[0-9a-f]{64}$/;

/**
 * A new token for a CA, with what the manager stores (`id`, `secretHash`) and what it shows once (`token`).
 *
 * @example
 * const { token, id, secretHash } = createEnrolmentToken(ca.fingerprint);
 * // store { id, secretHash, expiresAt, usedAt: null }; print token for the administrator
 */
export function createEnrolmentToken(caFingerprint: string): { token: string; id: string; secretHash: string } {
  const parts: EnrolmentToken = { id: randomBytes(8).toString('hex'), secret: randomBytes(32).toString('base64url'), caFingerprint };
  return { token: encodeEnrolmentToken(parts), id: parts.id, secretHash: hashTokenSecret(parts.secret) };
}

/**
 * @example
 * encodeEnrolmentToken({ id, secret, caFingerprint }); // 'storm1.0f3c….Xk9….q2M…'
 */
export function encodeEnrolmentToken(parts: EnrolmentToken): string {
  const token = `${TOKEN_VERSION}.${parts.id}.${parts.secret}.${fingerprintBytes(parts.caFingerprint).toString('base64url')}`;
  if (!TOKEN.test(token)) throw PkiErr.MGR_ERR_PKI_TOKEN_MALFORMED('id must be 16 hex digits and secret 32 bytes of base64url');
  return token;
}

/**
 * Splits and checks a token; throws `MGR_ERR_PKI_TOKEN_MALFORMED` without echoing the secret.
 *
 * @example
 * const { id, secret, caFingerprint } = decodeEnrolmentToken(process.env.STORM_JOIN_TOKEN ?? '');
 */
export function decodeEnrolmentToken(token: string): EnrolmentToken {
  const match = TOKEN.exec(token.trim());
  if (!match) throw PkiErr.MGR_ERR_PKI_TOKEN_MALFORMED(`expected ${TOKEN_VERSION}.<id>.<secret>.<fingerprint>`);
  const [, id = '', secret = '', fingerprint = ''] = match;
  // Reject non-canonical base64url (stray low bits), so one token has exactly one spelling.
  if (Buffer.from(secret, 'base64url').toString('base64url') !== secret)
    throw PkiErr.MGR_ERR_PKI_TOKEN_MALFORMED('secret is not canonical base64url');
  const digest = Buffer.from(fingerprint, 'base64url');
  if (digest.toString('base64url') !== fingerprint) throw PkiErr.MGR_ERR_PKI_TOKEN_MALFORMED('fingerprint is not canonical base64url');
  return { id, secret, caFingerprint: fingerprintFromBytes(digest) };
}

/**
 * What the manager stores instead of the secret. Plain SHA-256 is enough: the secret is 256
 * random bits, so there is nothing for a slow password hash to protect against.
 *
 * @example
 * hashTokenSecret(secret); // 'sha256:9e1a…'
 */
export function hashTokenSecret(secret: string): string {
  return `sha256:${createHash('sha256').update(secret, 'utf8').digest('hex')}`;
}

/**
 * Constant-time check of a presented secret against a stored hash.
 *
 * @example
 * if (!row || row.usedAt || row.expiresAt < now || !verifyTokenSecret(parts.secret, row.secretHash)) throw unauthorized;
 */
export function verifyTokenSecret(secret: string, storedHash: string): boolean {
  if (!HASH.test(storedHash)) return false;
  return timingSafeEqual(Buffer.from(hashTokenSecret(secret)), Buffer.from(storedHash));
}
