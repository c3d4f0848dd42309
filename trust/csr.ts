/**
 * Certificate signing requests. A host makes one with its own key (`createCsr`); the manager
 * reads it (`readCsr`) only for the public key and the proof that the host holds the private key.
 * Subject, SAN and every extension of the resulting certificate are the CA's choice.
 */
import { createPublicKey, verify } from 'node:crypto';
import forge from 'node-forge';
import { PkiErr } from './errors.js';
import { subjectFields } from './certificate-builder.js';

/** A CSR is outside input: bounded before parsing. */
export const MAX_CSR_PEM_BYTES = 16 * 1024;
const MIN_RSA_BITS = 2048;
const MAX_RSA_BITS = 8192;

const SIGNATURE_DIGESTS: Readonly<Record<string, string>> = {
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
};

export interface CsrContents {
  readonly publicKeyPem: string;
  /** The CN the host asked for; informative only, the CA decides the subject. */
  readonly requestedCommonName: string | undefined;
}

/**
 * Makes a CSR (PEM) for a key, signed with sha256WithRSAEncryption.
 *
 * @example
 * const csrPem = createCsr(privateKeyPem, 'host-1.example');
 */
export function createCsr(privateKeyPem: string, commonName: string): string {
  const key = forge.pki.privateKeyFromPem(privateKeyPem);
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  csr.setSubject(subjectFields(commonName));
  csr.sign(key, forge.md.sha256.create());
  return forge.pki.certificationRequestToPem(csr);
}

/**
 * Parses a CSR and checks its self-signature with Node's crypto; throws `MGR_ERR_PKI_CSR_INVALID`.
 *
 * @example
 * const { publicKeyPem } = readCsr(body.csr);
 */
export function readCsr(csrPem: string): CsrContents {
  if (Buffer.byteLength(csrPem) > MAX_CSR_PEM_BYTES) throw PkiErr.MGR_ERR_PKI_CSR_INVALID(`larger than ${MAX_CSR_PEM_BYTES} bytes`);
  let csr: forge.pki.CertificateSigningRequest;
  try {
    csr = forge.pki.certificationRequestFromPem(csrPem);
  } catch (err) {
    throw PkiErr.MGR_ERR_PKI_CSR_INVALID('not a PEM PKCS#10 request with an RSA key', { cause: err });
  }
  if (!csr.publicKey || !csr.certificationRequestInfo) throw PkiErr.MGR_ERR_PKI_CSR_INVALID('no public key');
  const publicKeyPem = forge.pki.publicKeyToPem(csr.publicKey);
  const bits = createPublicKey(publicKeyPem).asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_RSA_BITS || bits > MAX_RSA_BITS)
    throw PkiErr.MGR_ERR_PKI_CSR_INVALID(`RSA key of ${bits} bits; ${MIN_RSA_BITS}–${MAX_RSA_BITS} accepted`);
  const digest = SIGNATURE_DIGESTS[csr.signatureOid ?? ''];
  if (!digest) throw PkiErr.MGR_ERR_PKI_CSR_INVALID(`signature algorithm ${csr.signatureOid} not accepted`);
  // The signed bytes are the CertificationRequestInfo as received (forge keeps its parsed ASN.1).
  const signed = Buffer.from(forge.asn1.toDer(csr.certificationRequestInfo).getBytes(), 'binary');
  const signature = Buffer.from(String(csr.signature), 'binary');
  if (!verify(digest, signed, publicKeyPem, signature)) throw PkiErr.MGR_ERR_PKI_CSR_INVALID('signature does not verify');
  const cn: unknown = csr.subject.getField('CN')?.value;
  return { publicKeyPem, requestedCommonName: typeof cn === 'string' ? cn : undefined };
}
