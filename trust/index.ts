/**
 * STORM's trust module: the manager's certificate authority and the TLS trust rules the manager,
 * stormd and the CLI share (docs/pki.md; trust/README.md).
 *
 * @example
 * import { CertificateAuthority, loadOrIssueManagerIdentity, clientTlsOptions } from '../../trust/index.js';
 * const ca = await CertificateAuthority.loadOrCreate(join(config.data, 'pki'));
 */
export { CertificateAuthority, CRL_VALIDITY_DAYS, type CaOptions, type CreateCaOptions } from './certificate-authority.js';
export { CA_CERT_FILE, CA_KEY_FILE, type CaMaterial } from './ca-files.js';
export type { IssuedCertificate } from './certificate-builder.js';
export { checkPeer, type PeerExpectation, type PeerIdentity } from './check-peer.js';
export type { RevokedCertificate } from './crl.js';
export { readCrl, type CrlInfo, type CrlRefusal } from './crl-info.js';
export { createCsr, readCsr, MAX_CSR_PEM_BYTES, type CsrContents } from './csr.js';
export { discoverCaCertificate, type DiscoveryTarget } from './discovery.js';
export {
  createEnrolmentToken,
  decodeEnrolmentToken,
  encodeEnrolmentToken,
  hashTokenSecret,
  verifyTokenSecret,
  TOKEN_VERSION,
  type EnrolmentToken,
} from './enrolment-token.js';
export { PkiErr, type PkiErrCode } from './errors.js';
export { certificateFingerprint, fingerprintBytes, fingerprintFromBytes } from './fingerprint.js';
export { generateKeyPair, publicKeyOf, RSA_KEY_BITS, type KeyPairPem } from './keys.js';
export {
  issueLibvirtBundle,
  writeLibvirtBundle,
  LIBVIRT_BUNDLE_FILES,
  LIBVIRT_CLIENT_COMMON_NAME,
  type LibvirtBundle,
} from './libvirt-bundle.js';
export { loadOrIssueManagerIdentity, STORM_LOCAL_NAME, type KeyAndCertificate, type ManagerIdentity } from './manager-identity.js';
export { CA_VALIDITY_DAYS, CLOCK_SKEW_MS, LEAF_VALIDITY_DAYS, MANAGER_COMMON_NAME } from './profiles.js';
export { FileRevocationRecord, REVOCATIONS_FILE, type RevocationRecord } from './revocation-file.js';
export { hasRole, publicKeyPin, roleExtension, rolesOf, ROLE_OIDS, STORM_OID_ARC, type Role } from './roles.js';
export { normalizeSerial } from './serial.js';
export { onTlsRefusal, tlsRefusal, type TlsRefusal } from './tls-refusal.js';
export {
  clientTlsOptions,
  httpsServerOptions,
  serverTlsOptions,
  type ClientTlsInput,
  type HttpsServerInput,
  type ServerTlsInput,
} from './tls-options.js';
