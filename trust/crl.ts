/**
 * X.509 v2 CRLs (RFC 5280 §5) built with forge's ASN.1 and signed with the CA key; node-forge has
 * no CRL builder. The revoked list and the CRL number come from the caller's storage.
 */
import forge from 'node-forge';
import type { Signer } from './certificate-builder.js';
import { normalizeSerial, serialDerHex } from './serial.js';
import { rsaSign } from './rsa-sign.js';

export interface RevokedCertificate {
  /** Serial in any hex spelling; normalised (see serial.ts). */
  readonly serial: string;
  readonly revokedAt: Date;
}

export interface CrlTimes {
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
}

const { asn1 } = forge;
const U = asn1.Class.UNIVERSAL;
const T = asn1.Type;
const SHA256_WITH_RSA = '1.2.840.113549.1.1.11';
const CRL_NUMBER = '2.5.29.20';
const AUTHORITY_KEY_IDENTIFIER = '2.5.29.35';
const UTC_TIME_BEFORE = Date.UTC(2050, 0, 1);

const seq = (items: forge.asn1.Asn1[]): forge.asn1.Asn1 => asn1.create(U, T.SEQUENCE, true, items);
const oid = (id: string): forge.asn1.Asn1 => asn1.create(U, T.OID, false, asn1.oidToDer(id).getBytes());
const hexInteger = (hex: string): forge.asn1.Asn1 => asn1.create(U, T.INTEGER, false, forge.util.hexToBytes(hex));

/** RFC 5280 §5.1.2.4: UTCTime through 2049, GeneralizedTime after. */
function time(date: Date): forge.asn1.Asn1 {
  return date.getTime() < UTC_TIME_BEFORE
    ? asn1.create(U, T.UTCTIME, false, asn1.dateToUtcTime(date))
    : asn1.create(U, T.GENERALIZEDTIME, false, asn1.dateToGeneralizedTime(date));
}

function extension(id: string, value: forge.asn1.Asn1): forge.asn1.Asn1 {
  return seq([oid(id), asn1.create(U, T.OCTETSTRING, false, asn1.toDer(value).getBytes())]);
}

/** revokedCertificates: one entry per distinct serial, sorted, so equal input gives equal bytes. */
function revokedList(revoked: readonly RevokedCertificate[]): forge.asn1.Asn1[] {
  const bySerial = new Map<string, Date>();
  for (const r of revoked) {
    const serial = normalizeSerial(r.serial);
    const earlier = bySerial.get(serial);
    if (!earlier || r.revokedAt < earlier) bySerial.set(serial, r.revokedAt);
  }
  return [...bySerial.entries()]
    .sort(([a], [b]) => (BigInt(`0x${a}`) < BigInt(`0x${b}`) ? -1 : 1))
    .map(([serial, at]) => seq([hexInteger(serialDerHex(serial)), time(at)]));
}

/**
 * Builds and signs a CRL; returns PEM (`-----BEGIN X509 CRL-----`).
 *
 * @example
 * const crlPem = buildCrl(signer, [{ serial: 'ab01', revokedAt: new Date() }], 7, { thisUpdate, nextUpdate });
 */
export function buildCrl(signer: Signer, revoked: readonly RevokedCertificate[], crlNumber: number, times: CrlTimes): string {
  if (!Number.isSafeInteger(crlNumber) || crlNumber < 0) throw new RangeError(`crlNumber must be a non-negative integer, got ${crlNumber}`);
  const algorithm = seq([oid(SHA256_WITH_RSA), asn1.create(U, T.NULL, false, '')]);
  const entries = revokedList(revoked);
  const extensions = asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [
    seq([
      extension(CRL_NUMBER, hexInteger(serialDerHex(crlNumber.toString(16)))),
      extension(AUTHORITY_KEY_IDENTIFIER, seq([asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, false, signer.keyIdentifier)])),
    ]),
  ]);
  const tbs = seq([
    hexInteger('01'), // v2: required by the extensions
    algorithm,
    forge.pki.distinguishedNameToAsn1({ attributes: signer.subject }),
    time(times.thisUpdate),
    time(times.nextUpdate),
    // RFC 5280 §5.1.2.6: with no revoked certificates the list is absent, not empty.
    ...(entries.length ? [seq(entries)] : []),
    extensions,
  ]);
  const md = forge.md.sha256.create();
  md.update(asn1.toDer(tbs).getBytes());
  const signature = rsaSign(signer.key, md);
  const crl = seq([tbs, algorithm, asn1.create(U, T.BITSTRING, false, String.fromCharCode(0) + signature)]);
  return forge.pem.encode({ type: 'X509 CRL', body: asn1.toDer(crl).getBytes() });
}
