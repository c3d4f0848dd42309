import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyFeedSignature } from '../format/signature.js';
import { generatePublisherKey, loadPrivateKey, signBytes } from './keys.js';

describe('publisher keys', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'chan-key-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes a 0600 PKCS#8 private key and an SPKI public key that verify each other', async () => {
    const k = await generatePublisherKey(dir);
    expect((await stat(k.privateKeyPath)).mode & 0o777).toBe(0o600);
    const pub = await readFile(k.publicKeyPath, 'utf8');
    expect(pub).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(await readFile(k.privateKeyPath, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    const data = Buffer.from('feed');
    verifyFeedSignature(data, signBytes(await loadPrivateKey(k.privateKeyPath), data), pub);
  });

  it('refuses to overwrite an existing key unless forced', async () => {
    const first = await generatePublisherKey(dir);
    await expect(generatePublisherKey(dir)).rejects.toMatchObject({ code: 'CHAN_ERR_KEY_EXISTS' });
    const replaced = await generatePublisherKey(dir, { force: true });
    expect(replaced.fingerprint).not.toBe(first.fingerprint);
    expect((await stat(replaced.privateKeyPath)).mode & 0o777).toBe(0o600);
  });
});
