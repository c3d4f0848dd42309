import { describe, expect, it } from 'vitest';
import { createEnrolmentToken, decodeEnrolmentToken, encodeEnrolmentToken, hashTokenSecret, verifyTokenSecret } from './enrolment-token.js';

const FP = `sha256:${'ab'.repeat(32)}`;

describe('enrolment tokens', () => {
  it('carry id, secret and CA fingerprint, and decode to what was encoded', () => {
    const { token, id, secretHash } = createEnrolmentToken(FP);
    expect(token).toMatch(/^storm1\.[0-9a-f]{16}\.[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$/);
    const parts = decodeEnrolmentToken(token);
    expect(parts.id).toBe(id);
    expect(parts.caFingerprint).toBe(FP);
    expect(Buffer.from(parts.secret, 'base64url')).toHaveLength(32);
    expect(verifyTokenSecret(parts.secret, secretHash)).toBe(true);
    expect(encodeEnrolmentToken(parts)).toBe(token);
  });

  it('are unique and store only a hash of the secret', () => {
    const a = createEnrolmentToken(FP);
    const b = createEnrolmentToken(FP);
    expect(a.id).not.toBe(b.id);
    const secret = decodeEnrolmentToken(a.token).secret;
    expect(a.secretHash).toBe(hashTokenSecret(secret));
    expect(a.secretHash).not.toContain(secret);
    expect(a.secretHash).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('verify only the right secret, and never a malformed stored hash', () => {
    const { token, secretHash } = createEnrolmentToken(FP);
    const { secret } = decodeEnrolmentToken(token);
    const wrong = (secret[0] === 'A' ? 'B' : 'A') + secret.slice(1);
    expect(verifyTokenSecret(wrong, secretHash)).toBe(false);
    expect(verifyTokenSecret(secret, 'sha256:short')).toBe(false);
    expect(verifyTokenSecret(secret, '')).toBe(false);
  });

  it('refuse malformed tokens without echoing them', () => {
    const { token } = createEnrolmentToken(FP);
    const [, id, secret, fp] = token.split('.');
    const bad = [
      '',
      `storm2.${id}.${secret}.${fp}`,
      `storm1.${id}.${secret}`,
      `${token}.extra`,
      `storm1.${id!.toUpperCase()}X.${secret}.${fp}`,
      `storm1.${id}.${secret!.slice(1)}.${fp}`,
      `storm1.${id}.${secret!.slice(0, -1)}_.${fp}`, // last character carries bits past 256
      `storm1.${id}.${secret}.${fp!.slice(0, -1)}_`,
      `storm1.${id}.${secret!.replace(/.$/, '=')}.${fp}`,
    ];
    for (const t of bad) {
      let caught: unknown;
      try {
        decodeEnrolmentToken(t);
      } catch (err) {
        caught = err;
      }
      expect(caught, t).toMatchObject({ code: 'MGR_ERR_PKI_TOKEN_MALFORMED' });
      expect((caught as Error).message).not.toContain(secret);
    }
  });

  it('refuse to encode a fingerprint that is not sha256:<64 hex>', () => {
    expect(() => createEnrolmentToken('sha1:abcd')).toThrow(expect.objectContaining({ code: 'MGR_ERR_PKI_FINGERPRINT_INVALID' }));
  });
});
