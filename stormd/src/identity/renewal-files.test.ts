import { X509Certificate } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCsr } from '../../../trust/index.js';
import { DAY_MS, pkiFixture, type PkiFixture } from '../../../trust/test-support/fixtures.js';
import { finishRenewal, HOST_FILES, RENEWAL_DIR, writeRenewedIdentity } from './host-identity.js';
import { renewalDue } from './renewal.js';

describe('renewed key and certificate on disk', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'stormd-renew-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const host = async (name: string) => {
    const dir = join(root, name);
    await mkdir(dir);
    await writeFile(join(dir, HOST_FILES.key), 'old key');
    await writeFile(join(dir, HOST_FILES.cert), 'old cert');
    return dir;
  };
  const pair = async (dir: string) => [
    await readFile(join(dir, HOST_FILES.key), 'utf8'),
    await readFile(join(dir, HOST_FILES.cert), 'utf8'),
  ];

  it('replaces both files, the key 0600, and leaves no staging behind', async () => {
    const dir = await host('plain');
    await writeRenewedIdentity(dir, { keyPem: 'new key', certPem: 'new cert' });
    expect(await pair(dir)).toEqual(['new key', 'new cert']);
    expect((await stat(join(dir, HOST_FILES.key))).mode & 0o777).toBe(0o600);
    expect((await readdir(dir)).sort()).toEqual([HOST_FILES.cert, HOST_FILES.key].sort());
  });

  it('after a crash before the commit, keeps the old pair and drops the half-written staging', async () => {
    const dir = await host('uncommitted');
    await mkdir(join(dir, `${RENEWAL_DIR}.tmp`));
    await writeFile(join(dir, `${RENEWAL_DIR}.tmp`, HOST_FILES.key), 'new key');
    await finishRenewal(dir);
    expect(await pair(dir)).toEqual(['old key', 'old cert']);
    expect(await readdir(dir)).not.toContain(`${RENEWAL_DIR}.tmp`);
  });

  it('after a crash between the two moves, finishes them: never a new key with an old certificate', async () => {
    const dir = await host('half-moved');
    await mkdir(join(dir, RENEWAL_DIR));
    await writeFile(join(dir, HOST_FILES.key), 'new key'); // the key already moved
    await writeFile(join(dir, RENEWAL_DIR, HOST_FILES.cert), 'new cert');
    await finishRenewal(dir);
    expect(await pair(dir)).toEqual(['new key', 'new cert']);
    expect(await readdir(dir)).not.toContain(RENEWAL_DIR);
  });
});

describe('renewalDue', () => {
  let f: PkiFixture;
  beforeAll(async () => {
    f = await pkiFixture(1);
  });

  it('is due only within the given days of expiry', () => {
    const certPem = f.ca.issueHostCertificate(createCsr(f.keys[0]!.privateKeyPem, 'host-1'), {
      hostName: 'host-1',
      validityDays: 40,
    }).certPem;
    const notAfter = new Date(new X509Certificate(certPem).validTo);
    expect(renewalDue(certPem, 30)).toBe(false);
    expect(renewalDue(certPem, 41)).toBe(true);
    expect(renewalDue(certPem, 30, new Date(notAfter.getTime() - 29 * DAY_MS))).toBe(true);
  });
});
