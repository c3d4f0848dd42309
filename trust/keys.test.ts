import { createPrivateKey, createPublicKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateKeyPair, publicKeyOf, RSA_KEY_BITS } from './keys.js';

describe('key pairs', () => {
  it('are RSA-3072 in PKCS#8 and SPKI PEM, and publicKeyOf recovers the public half', async () => {
    const { privateKeyPem, publicKeyPem } = await generateKeyPair();
    expect(privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    const key = createPrivateKey(privateKeyPem);
    expect(key.asymmetricKeyType).toBe('rsa');
    expect(key.asymmetricKeyDetails?.modulusLength).toBe(RSA_KEY_BITS);
    expect(publicKeyOf(privateKeyPem)).toBe(createPublicKey(publicKeyPem).export({ type: 'spki', format: 'pem' }).toString());
  });
});
