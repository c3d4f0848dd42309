import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { publicKeyFingerprint, verifyFeedSignature } from './signature.js';

const pair = () => {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return { pub: publicKey.export({ type: 'spki', format: 'pem' }).toString(), privateKey };
};

describe('verifyFeedSignature', () => {
  const { pub, privateKey } = pair();
  const feed = Buffer.from('<rss version="2.0"/>\n');
  const sig = sign(null, feed, privateKey);

  it('accepts the publisher signature of the exact bytes', () => {
    expect(sig.byteLength).toBe(64);
    expect(() => verifyFeedSignature(feed, sig, pub)).not.toThrow();
  });

  it('rejects one changed byte, another key, a truncated signature', () => {
    const tampered = Buffer.from(feed);
    tampered[1] = 0x52;
    expect(() => verifyFeedSignature(tampered, sig, pub)).toThrow(expect.objectContaining({ code: 'CHAN_ERR_SIGNATURE_INVALID' }));
    expect(() => verifyFeedSignature(feed, sig, pair().pub)).toThrow(/not signed by the key sha256:[0-9a-f]{64}/);
    expect(() => verifyFeedSignature(feed, sig.subarray(0, 63), pub)).toThrow(/63 bytes/);
  });

  it('refuses keys that are not Ed25519 public keys', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(() => verifyFeedSignature(feed, sig, rsa)).toThrow(expect.objectContaining({ code: 'CHAN_ERR_KEY_INVALID' }));
    expect(() => verifyFeedSignature(feed, sig, 'not a pem')).toThrow(expect.objectContaining({ code: 'CHAN_ERR_KEY_INVALID' }));
  });

  it('fingerprints the SPKI DER', () => {
    expect(publicKeyFingerprint(pub)).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(publicKeyFingerprint(pub)).not.toBe(publicKeyFingerprint(pair().pub));
  });
});
