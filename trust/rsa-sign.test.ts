import { createPublicKey, verify } from 'node:crypto';
import forge from 'node-forge';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair, type KeyPairPem } from './keys.js';
import { rsaSign } from './rsa-sign.js';

let pair: KeyPairPem;
beforeAll(async () => {
  pair = await generateKeyPair();
});

const digest = (text: string, algorithm: 'sha256' | 'sha384' | 'sha512' = 'sha256'): forge.md.MessageDigest => {
  const md = forge.md[algorithm].create();
  md.update(text);
  return md;
};

describe('rsaSign', () => {
  it("makes forge's own PKCS#1 v1.5 signature, byte for byte, and OpenSSL verifies it", () => {
    const key = forge.pki.privateKeyFromPem(pair.privateKeyPem);
    for (const algorithm of ['sha256', 'sha384', 'sha512'] as const) {
      const ours = rsaSign(key, digest('a tbsCertificate', algorithm));
      expect(Buffer.from(ours, 'binary').toString('hex')).toBe(
        Buffer.from(key.sign(digest('a tbsCertificate', algorithm)), 'binary').toString('hex'),
      );
      const ok = verify(algorithm, Buffer.from('a tbsCertificate'), createPublicKey(pair.publicKeyPem), Buffer.from(ours, 'binary'));
      expect({ algorithm, ok }).toEqual({ algorithm, ok: true });
    }
  });
});
