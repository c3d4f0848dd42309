import { describe, expect, it } from 'vitest';
import { generateSecret, hashSecret, PasswordHasher, verifySecret } from './password.js';

describe('PasswordHasher', () => {
  const hasher = new PasswordHasher();

  it('stores a salted scrypt hash with its parameters and verifies only the right password', async () => {
    const a = await hasher.hash('correct horse battery');
    const b = await hasher.hash('correct horse battery');
    expect(a).toMatch(/^\$scrypt\$ln=15,r=8,p=1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain('correct');
    expect(await hasher.verify('correct horse battery', a)).toBe(true);
    expect(await hasher.verify('correct horse batterY', a)).toBe(false);
    expect(await hasher.verify('', a)).toBe(false);
  });

  it('verifies hashes made at another cost (the cost travels with the hash)', async () => {
    const cheap = new PasswordHasher({ cost: { log2N: 10, r: 8, p: 1 } });
    const stored = await cheap.hash('pw-at-low-cost');
    expect(await hasher.verify('pw-at-low-cost', stored)).toBe(true);
  });

  it('answers false for a missing or unreadable hash after doing the same work', async () => {
    const stored = await hasher.hash('reference');
    const t0 = performance.now();
    await hasher.verify('reference', stored);
    const known = performance.now() - t0;
    const t1 = performance.now();
    expect(await hasher.verify('reference', null)).toBe(false);
    const unknown = performance.now() - t1;
    expect(await hasher.verify('x', '$scrypt$ln=40,r=8,p=1$AAAA$AAAA')).toBe(false);
    expect(await hasher.verify('x', 'plain')).toBe(false);
    // Same order of magnitude: an unknown user is not answered instantly.
    expect(unknown).toBeGreaterThan(known / 4);
  });

  it('refuses work past its queue instead of growing without bound', async () => {
    const tiny = new PasswordHasher({ cost: { log2N: 12, r: 8, p: 1 }, maxConcurrent: 1, maxWaiting: 2 });
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => tiny.hash('queued-password')));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
    expect(results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.code)).toEqual([
      'MGR_ERR_UNAVAILABLE',
      'MGR_ERR_UNAVAILABLE',
      'MGR_ERR_UNAVAILABLE',
    ]);
    expect(await tiny.hash('after-the-burst')).toMatch(/^\$scrypt\$/);
  });
});

describe('service secrets', () => {
  it('are 256-bit random, stored as SHA-256, checked in constant time', () => {
    const secret = generateSecret();
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const stored = hashSecret(secret);
    expect(stored).toMatch(/^\$sha256\$[0-9a-f]{64}$/);
    expect(verifySecret(secret, stored)).toBe(true);
    expect(verifySecret(`${secret}x`, stored)).toBe(false);
    expect(verifySecret(secret, null)).toBe(false);
    expect(verifySecret(secret, 'garbage')).toBe(false);
  });
});
