import { describe, expect, it } from 'vitest';
import { DECOY_HASH, hashPassword, verifyPassword } from './passwords.js';

describe('passwords', () => {
  it('hashes with a fresh salt and verifies only the right password', async () => {
    const a = await hashPassword('correct horse');
    const b = await hashPassword('correct horse');
    expect(a).toMatch(/^scrypt\$32768\$8\$1\$[\w-]{22}\$[\w-]{43}$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword('correct horse', a)).toBe(true);
    expect(await verifyPassword('correct horsE', a)).toBe(false);
  });

  it('refuses malformed or abusive hashes without throwing', async () => {
    for (const stored of ['', 'plain', 'scrypt$3$8$1$AA$AA', 'scrypt$1099511627776$8$1$AA$AA', 'scrypt$1024$8$99$AA$AA']) {
      expect(await verifyPassword('x', stored)).toBe(false);
    }
    expect(await verifyPassword('', DECOY_HASH)).toBe(false);
  });
});
