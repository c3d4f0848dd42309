/**
 * The manager's certificate authority: a self-signed RSA root kept in the data folder. node-forge
 * issues; every verification of what it issues is left to Node's `tls` (OpenSSL).
 */
import { createPrivateKey, randomBytes, X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import { buildCertificate, signerFromPem, type IssuedCertificate, type Signer } from './certificate-builder.js';
import { loadOrCreateCaFiles, type CaMaterial } from './ca-files.js';
import { buildCrl, type RevokedCertificate } from './crl.js';
import { readCsr } from './csr.js';
import { issueEcServerCertificate } from './ec-leaf.js';
import { PkiErr } from './errors.js';
import { certificateFingerprint } from './fingerprint.js';
import { generateKeyPair, publicKeyOf } from './keys.js';
import { parseAltNames } from './names.js';
import { roleExtension, type Role } from './roles.js';
import {
  CA_VALIDITY_DAYS,
  CLOCK_SKEW_MS,
  LEAF_VALIDITY_DAYS,
  MANAGER_COMMON_NAME,
  caExtensions,
  clientExtensions,
  hostExtensions,
  serverExtensions,
  validityWindow,
} from './profiles.js';

export interface CaOptions {
  /** Clock for issuing and CRLs; tests pass another to make expired or future certificates. */
  readonly clock?: () => Date;
}

export interface CreateCaOptions extends CaOptions {
  /** Subject CN of the root; default `STORM CA <random id>`, so two installations are told apart. */
  readonly commonName?: string;
}

/** How long a CRL stays valid; the manager republishes daily and on every revocation, well within it. */
export const CRL_VALIDITY_DAYS = 30;

const DAY_MS = 86_400_000;

export class CertificateAuthority {
  readonly certPem: string;
  /** `sha256:<hex>` of the root's DER: what enrolment tokens carry. */
  readonly fingerprint: string;
  readonly notAfter: Date;
  private readonly material: CaMaterial;
  private readonly signer: Signer;
  private readonly clock: () => Date;

  private constructor(material: CaMaterial, signer: Signer, notAfter: Date, clock: () => Date) {
    this.material = material;
    this.certPem = material.certPem;
    this.fingerprint = certificateFingerprint(material.certPem);
    this.notAfter = notAfter;
    this.signer = signer;
    this.clock = clock;
  }

  /**
   * A new root: fresh RSA key, self-signed, CA:true (critical), keyCertSign+cRLSign, 10 years.
   *
   * @example
   * const { certPem, keyPem } = await CertificateAuthority.generate();
   */
  static async generate(options: CreateCaOptions = {}): Promise<CaMaterial> {
    const { privateKeyPem, publicKeyPem } = await generateKeyPair();
    const now = (options.clock ?? (() => new Date()))();
    const commonName = options.commonName ?? `STORM CA ${randomBytes(4).toString('hex')}`;
    const { certPem } = buildCertificate({
      commonName,
      publicKeyPem,
      issuer: { selfSignedWith: forge.pki.privateKeyFromPem(privateKeyPem) },
      ...validityWindow(now, CA_VALIDITY_DAYS),
      extensions: caExtensions(),
    });
    return { certPem, keyPem: privateKeyPem };
  }

  /**
   * Checks a stored pair (Node's X509Certificate) and wraps it: a CA, self-signed, RSA, key matching.
   *
   * @example
   * const ca = CertificateAuthority.fromPem({ certPem, keyPem });
   */
  static fromPem(material: CaMaterial, options: CaOptions = {}): CertificateAuthority {
    let x509: X509Certificate;
    let key: ReturnType<typeof createPrivateKey>;
    try {
      x509 = new X509Certificate(material.certPem);
      key = createPrivateKey(material.keyPem);
    } catch (err) {
      throw PkiErr.MGR_ERR_PKI_CA_INVALID('ca.pem or ca.key does not parse', { cause: err });
    }
    if (key.asymmetricKeyType !== 'rsa')
      throw PkiErr.MGR_ERR_PKI_CA_INVALID(`ca.key is ${key.asymmetricKeyType}; STORM's CA signs with RSA`);
    if (!x509.checkPrivateKey(key)) throw PkiErr.MGR_ERR_PKI_CA_KEY_MISMATCH(`ca.pem is ${certificateFingerprint(material.certPem)}`);
    if (!x509.ca) throw PkiErr.MGR_ERR_PKI_CA_INVALID('ca.pem is not a CA certificate (basicConstraints CA:false or absent)');
    if (x509.issuer !== x509.subject || !x509.verify(x509.publicKey)) throw PkiErr.MGR_ERR_PKI_CA_INVALID('ca.pem is not self-signed');
    const cert = forge.pki.certificateFromPem(material.certPem);
    // Leaves' authorityKeyIdentifier must equal the CA's SKI, so a CA without one is not ours.
    if (!cert.getExtension('subjectKeyIdentifier')) throw PkiErr.MGR_ERR_PKI_CA_INVALID('ca.pem has no subjectKeyIdentifier');
    const usage = cert.getExtension('keyUsage') as { keyCertSign?: boolean; cRLSign?: boolean } | undefined;
    if (!usage?.keyCertSign || !usage.cRLSign) throw PkiErr.MGR_ERR_PKI_CA_INVALID('ca.pem may not sign certificates and CRLs (keyUsage)');
    const signer = signerFromPem(material.certPem, material.keyPem);
    return new CertificateAuthority(material, signer, new Date(x509.validTo), options.clock ?? (() => new Date()));
  }

  /**
   * Loads `dir/ca.pem` + `dir/ca.key`, creating them on first start; a half or mismatched pair throws.
   *
   * @example
   * const ca = await CertificateAuthority.loadOrCreate(join(config.data, 'pki'));
   */
  static async loadOrCreate(dir: string, options: CreateCaOptions = {}): Promise<CertificateAuthority> {
    const material = await loadOrCreateCaFiles(dir, () => CertificateAuthority.generate(options));
    return CertificateAuthority.fromPem(material, options);
  }

  /**
   * The same CA reading another clock.
   *
   * @example
   * const lastYear = ca.withClock(() => new Date(Date.now() - 400 * 86_400_000));
   */
  withClock(clock: () => Date): CertificateAuthority {
    return new CertificateAuthority(this.material, this.signer, this.notAfter, clock);
  }

  /** Validity for a new leaf; an expired CA issues nothing (its certificates could never verify). */
  private leafWindow(validityDays: number | undefined): { notBefore: Date; notAfter: Date } {
    const now = this.clock();
    if (now >= this.notAfter) throw PkiErr.MGR_ERR_PKI_CA_INVALID(`the CA expired on ${this.notAfter.toISOString()}`);
    return validityWindow(now, validityDays ?? LEAF_VALIDITY_DAYS, this.notAfter);
  }

  /**
   * An ECDSA P-256 server certificate and its key (see ec-leaf.ts): cheap handshakes for the
   * guests' listener. Not persisted: issued anew at each start.
   */
  issueEcServerCertificate(
    names: readonly string[],
    options: { role?: Role; validityDays?: number } = {},
  ): { certPem: string; keyPem: string } {
    return issueEcServerCertificate(this.signer, publicKeyOf(this.material.keyPem), {
      names,
      ...(options.role ? { role: options.role } : {}),
      ...this.leafWindow(options.validityDays),
    });
  }

  /**
   * A TLS client certificate (extKeyUsage clientAuth only); CN defaults to `storm-manager`. Only
   * `role` makes it the manager's (stormd checks the role, not the CN); never pass a requester's choice.
   *
   * @example
   * const { privateKeyPem, publicKeyPem } = await generateKeyPair();
   * const client = ca.issueClientCertificate({ publicKeyPem, role: 'manager' });
   */
  issueClientCertificate(request: { publicKeyPem: string; commonName?: string; role?: Role; validityDays?: number }): IssuedCertificate {
    return buildCertificate({
      commonName: request.commonName ?? MANAGER_COMMON_NAME,
      publicKeyPem: request.publicKeyPem,
      issuer: this.signer,
      ...this.leafWindow(request.validityDays),
      extensions: [...clientExtensions(this.signer.keyIdentifier), ...(request.role ? [roleExtension(request.role)] : [])],
    });
  }

  /**
   * A TLS server certificate (extKeyUsage serverAuth only): CN is the first name, every name a DNS or IP SAN.
   *
   * @example
   * const https = ca.issueServerCertificate({ publicKeyPem, names: ['manager.example', 'storm.local', '10.0.0.1'], role: 'manager' });
   */
  issueServerCertificate(request: {
    publicKeyPem: string;
    names: readonly string[];
    role?: Role;
    validityDays?: number;
  }): IssuedCertificate {
    const names = parseAltNames(request.names);
    return buildCertificate({
      commonName: names[0]!.value,
      publicKeyPem: request.publicKeyPem,
      issuer: this.signer,
      ...this.leafWindow(request.validityDays),
      extensions: [...serverExtensions(this.signer.keyIdentifier, names), ...(request.role ? [roleExtension(request.role)] : [])],
    });
  }

  /**
   * A host's server certificate from its CSR: the CSR proves key possession and gives the key;
   * subject and SANs come from the host's record (`hostName` first, then `altNames`). It carries
   * the host role, always: the only path from a requester's key, it can never make a manager.
   *
   * @example
   * const cert = ca.issueHostCertificate(body.csr, { hostName: host.name, altNames: [host.address] });
   */
  issueHostCertificate(csrPem: string, host: { hostName: string; altNames?: readonly string[]; validityDays?: number }): IssuedCertificate {
    const { publicKeyPem } = readCsr(csrPem);
    const names = parseAltNames([host.hostName, ...(host.altNames ?? [])]);
    return buildCertificate({
      commonName: names[0]!.value,
      publicKeyPem,
      issuer: this.signer,
      ...this.leafWindow(host.validityDays),
      extensions: [...hostExtensions(this.signer.keyIdentifier, names), roleExtension('host')],
    });
  }

  /**
   * The CRL for the given revocations (from the caller's storage), numbered `crlNumber` (which the
   * caller increases each time); thisUpdate is backdated like notBefore.
   *
   * @example
   * const crlPem = ca.buildCrl(await db.revokedCertificates(), await db.nextCrlNumber());
   */
  buildCrl(revoked: readonly RevokedCertificate[], crlNumber: number, options: { validityDays?: number } = {}): string {
    const now = this.clock().getTime();
    return buildCrl(this.signer, revoked, crlNumber, {
      thisUpdate: new Date(now - CLOCK_SKEW_MS),
      nextUpdate: new Date(now + (options.validityDays ?? CRL_VALIDITY_DAYS) * DAY_MS),
    });
  }
}
