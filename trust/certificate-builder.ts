/**
 * The one place node-forge assembles and signs a certificate. Everything it is told (subject,
 * issuer, validity, extensions) comes from the caller; it adds a random serial and signs with
 * sha256WithRSAEncryption (the RSA by Node's crypto: rsa-sign.ts). Tests use it directly to make the certificates STORM must refuse.
 */
import forge from 'node-forge';
import { certificateFingerprint } from './fingerprint.js';
import type { ForgeExtension } from './profiles.js';
import { ORGANIZATION } from './profiles.js';
import { rsaSign } from './rsa-sign.js';
import { randomSerial, serialDerHex } from './serial.js';

/** A signing CA as forge sees it: its subject (our issuer), its key and its subjectKeyIdentifier. */
export interface Signer {
  readonly subject: forge.pki.CertificateField[];
  readonly key: forge.pki.rsa.PrivateKey;
  /** The CA's subjectKeyIdentifier as a forge binary string; leaves carry it as authorityKeyIdentifier. */
  readonly keyIdentifier: string;
}

export interface CertificateSpec {
  readonly commonName: string;
  readonly publicKeyPem: string;
  /** The CA that signs; `{ selfSignedWith }` for a root signed by its own key. */
  readonly issuer: Signer | { readonly selfSignedWith: forge.pki.rsa.PrivateKey };
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly extensions: readonly ForgeExtension[];
}

export interface IssuedCertificate {
  readonly certPem: string;
  /** Canonical serial (see serial.ts): what revocation records and CRLs use. */
  readonly serial: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** `sha256:<hex>` of the DER. */
  readonly fingerprint: string;
}

/**
 * A signer from a certificate and its key: subject and subjectKeyIdentifier read by forge. Checks
 * nothing about whether the certificate may sign; that is the CA's (and OpenSSL's) business.
 *
 * @example
 * const signer = signerFromPem(caPem, caKeyPem);
 */
export function signerFromPem(certPem: string, keyPem: string): Signer {
  const cert = forge.pki.certificateFromPem(certPem);
  const ski = cert.getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier?: string } | undefined;
  const keyIdentifier = ski?.subjectKeyIdentifier
    ? forge.util.hexToBytes(ski.subjectKeyIdentifier)
    : cert.generateSubjectKeyIdentifier().getBytes();
  return { subject: cert.subject.attributes, key: forge.pki.privateKeyFromPem(keyPem), keyIdentifier };
}

/** Subject `O=STORM, CN=<name>`. */
export function subjectFields(commonName: string): forge.pki.CertificateField[] {
  return [
    { shortName: 'O', value: ORGANIZATION },
    { shortName: 'CN', value: commonName },
  ];
}

/**
 * Builds and signs one certificate.
 *
 * @example
 * const leaf = buildCertificate({ commonName: 'storm-manager', publicKeyPem, issuer: signer,
 *   notBefore, notAfter, extensions: clientExtensions(signer.keyIdentifier) });
 */
export function buildCertificate(spec: CertificateSpec): IssuedCertificate {
  const cert = forge.pki.createCertificate();
  const serial = randomSerial();
  cert.serialNumber = serialDerHex(serial);
  cert.publicKey = forge.pki.publicKeyFromPem(spec.publicKeyPem);
  cert.validity.notBefore = spec.notBefore;
  cert.validity.notAfter = spec.notAfter;
  const subject = subjectFields(spec.commonName);
  cert.setSubject(subject);
  const { issuer } = spec;
  cert.setIssuer('selfSignedWith' in issuer ? subject : issuer.subject);
  cert.setExtensions([...spec.extensions]);
  // What forge's cert.sign does, with the signature made by Node's crypto (rsa-sign.ts).
  const sha256WithRSA = forge.pki.oids['sha256WithRSAEncryption']!;
  cert.signatureOid = sha256WithRSA;
  cert.siginfo.algorithmOid = sha256WithRSA;
  // Exported by node-forge's x509 module but missing from its type declarations.
  cert.tbsCertificate = (forge.pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 }).getTBSCertificate(cert);
  const md = forge.md.sha256.create();
  md.update(forge.asn1.toDer(cert.tbsCertificate).getBytes());
  cert.signature = rsaSign('selfSignedWith' in issuer ? issuer.selfSignedWith : issuer.key, md);
  const certPem = forge.pki.certificateToPem(cert);
  return { certPem, serial, notBefore: spec.notBefore, notAfter: spec.notAfter, fingerprint: certificateFingerprint(certPem) };
}
