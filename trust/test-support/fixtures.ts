/** Test support: one CA and a pool of RSA keys per test file (keygen is the slow part, so keys are shared). */
import { CertificateAuthority } from '../certificate-authority.js';
import type { CaMaterial } from '../ca-files.js';
import { signerFromPem, type Signer } from '../certificate-builder.js';
import { generateKeyPair, type KeyPairPem } from '../keys.js';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

export interface PkiFixture {
  readonly ca: CertificateAuthority;
  /** The CA's files; tests forge certificates with the key that the CA class would never issue. */
  readonly caMaterial: CaMaterial;
  readonly caSigner: Signer;
  /** Distinct key pairs; certificates in a test may share one, their keys are not what is tested. */
  readonly keys: readonly KeyPairPem[];
}

export async function pkiFixture(keyCount = 3, commonName = 'STORM CA test'): Promise<PkiFixture> {
  const [caMaterial, ...keys] = await Promise.all([
    CertificateAuthority.generate({ commonName }),
    ...Array.from({ length: keyCount }, () => generateKeyPair()),
  ]);
  return {
    ca: CertificateAuthority.fromPem(caMaterial),
    caMaterial,
    caSigner: signerFromPem(caMaterial.certPem, caMaterial.keyPem),
    keys,
  };
}
