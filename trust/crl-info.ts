/**
 * Reads what stormd needs from a CRL before it hands one to OpenSSL: its number (to know whether
 * the manager's is newer), its validity, and whether the CA really signed it (a CRL OpenSSL cannot
 * verify would make it refuse every client); the manager's doctor checks its own CRL with it.
 * node-forge parses the ASN.1; Node's crypto verifies.
 *
 * @example
 * const info = readCrl(crlPem, caPem); // { crlNumber: 7, thisUpdate, nextUpdate, revokedSerials: ['ab01'] }
 */
import { createPublicKey, verify, X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import { PkiErr } from './errors.js';

export interface CrlInfo {
  readonly crlNumber: number;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | undefined;
  /** Lowercase hex without leading zeros (the manager's canonical form). */
  readonly revokedSerials: readonly string[];
}

const CRL_NUMBER = '2.5.29.20';
const DIGESTS: Readonly<Record<string, string>> = {
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
};
const MAX_CRL_PEM_BYTES = 4 * 1024 * 1024;

type Asn1 = forge.asn1.Asn1;
const { asn1 } = forge;

function children(node: Asn1 | undefined): Asn1[] {
  return Array.isArray(node?.value) ? node.value : [];
}

function bytes(node: Asn1 | undefined): string {
  return typeof node?.value === 'string' ? node.value : '';
}

function isTime(node: Asn1 | undefined): boolean {
  return node?.tagClass === asn1.Class.UNIVERSAL && (node.type === asn1.Type.UTCTIME || node.type === asn1.Type.GENERALIZEDTIME);
}

function timeOf(node: Asn1): Date {
  return node.type === asn1.Type.UTCTIME ? asn1.utcTimeToDate(bytes(node)) : asn1.generalizedTimeToDate(bytes(node));
}

function hexInteger(raw: string): string {
  const hex = forge.util.bytesToHex(raw).replace(/^0+/, '');
  return hex || '0';
}

/** The error a CRL that does not check becomes: each program throws its own catalog's. */
export type CrlRefusal = (why: string, cause?: unknown) => Error;

const pkiRefusal: CrlRefusal = (why, cause) => PkiErr.MGR_ERR_PKI_CRL_INVALID(why, cause === undefined ? undefined : { cause });

/** Parses a PEM CRL and checks that `caPem`'s key signed it; throws `invalid(why)` otherwise. */
export function readCrl(crlPem: string, caPem: string, invalid: CrlRefusal = pkiRefusal): CrlInfo {
  if (Buffer.byteLength(crlPem) > MAX_CRL_PEM_BYTES) throw invalid(`larger than ${MAX_CRL_PEM_BYTES} bytes`);
  let root: Asn1;
  try {
    const [block] = forge.pem.decode(crlPem);
    if (block?.type !== 'X509 CRL') throw new Error('no X509 CRL block');
    root = asn1.fromDer(block.body);
  } catch (err) {
    throw invalid('not a PEM X509 CRL', err);
  }
  const [tbs, sigAlg, sigValue] = children(root);
  const digest = DIGESTS[asn1.derToOid(bytes(children(sigAlg)[0]))];
  if (!tbs || !digest || !sigValue) throw invalid('unsupported signature algorithm or shape');
  // BIT STRING content starts with the count of unused bits (0 for signatures).
  const signature = Buffer.from(bytes(sigValue).slice(1), 'binary');
  const signed = Buffer.from(asn1.toDer(tbs).getBytes(), 'binary');
  const caKey = createPublicKey(new X509Certificate(caPem).publicKey.export({ type: 'spki', format: 'pem' }));
  if (!verify(digest, signed, caKey, signature)) throw invalid('not signed by the CA');

  const fields = children(tbs);
  // version is an optional INTEGER first; then signature, issuer, thisUpdate.
  let i = fields[0]?.type === asn1.Type.INTEGER ? 1 : 0;
  i += 2;
  const thisField = fields[i++];
  if (!thisField || !isTime(thisField)) throw invalid('no thisUpdate');
  const thisUpdate = timeOf(thisField);
  let nextUpdate: Date | undefined;
  if (isTime(fields[i])) nextUpdate = timeOf(fields[i++]!);
  const revokedSerials: string[] = [];
  let crlNumber: number | undefined;
  for (; i < fields.length; i++) {
    const f = fields[i]!;
    if (f.tagClass === asn1.Class.UNIVERSAL && f.type === asn1.Type.SEQUENCE) {
      for (const entry of children(f)) revokedSerials.push(hexInteger(bytes(children(entry)[0])));
    } else if (f.tagClass === asn1.Class.CONTEXT_SPECIFIC && f.type === 0) {
      for (const ext of children(children(f)[0])) {
        const [id, ...rest] = children(ext);
        if (asn1.derToOid(bytes(id)) !== CRL_NUMBER) continue;
        const value = asn1.fromDer(bytes(rest.at(-1)));
        crlNumber = Number.parseInt(hexInteger(bytes(value)), 16);
      }
    }
  }
  if (crlNumber === undefined || !Number.isSafeInteger(crlNumber)) throw invalid('no usable CRL number');
  return { crlNumber, thisUpdate, nextUpdate, revokedSerials };
}
