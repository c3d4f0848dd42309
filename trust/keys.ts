/**
 * Key pairs come from Node's crypto (OpenSSL), not node-forge, whose JavaScript RSA keygen takes
 * seconds. RSA everywhere: node-forge signs and embeds only RSA keys.
 */
import { createPrivateKey, createPublicKey, generateKeyPair as generateKeyPairCallback } from 'node:crypto';

/** RSA modulus size for every STORM key (CA and leaves); NIST's 128-bit security level. */
export const RSA_KEY_BITS = 3072;

export interface KeyPairPem {
  /** PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), which node-forge, OpenSSL and GnuTLS all read. */
  readonly privateKeyPem: string;
  /** SubjectPublicKeyInfo PEM (`-----BEGIN PUBLIC KEY-----`). */
  readonly publicKeyPem: string;
}

/**
 * Generates an RSA key pair off the event loop.
 *
 * @example
 * const { privateKeyPem, publicKeyPem } = await generateKeyPair();
 */
export function generateKeyPair(bits: number = RSA_KEY_BITS): Promise<KeyPairPem> {
  return new Promise((resolve, reject) => {
    generateKeyPairCallback(
      'rsa',
      { modulusLength: bits, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } },
      (err, publicKeyPem, privateKeyPem) => (err ? reject(err) : resolve({ privateKeyPem, publicKeyPem })),
    );
  });
}

/**
 * The SubjectPublicKeyInfo PEM of a private key.
 *
 * @example
 * const publicKeyPem = publicKeyOf(privateKeyPem);
 */
export function publicKeyOf(privateKeyPem: string): string {
  return createPublicKey(createPrivateKey(privateKeyPem)).export({ type: 'spki', format: 'pem' }).toString();
}
