import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileRevocationRecord, REVOCATIONS_FILE } from './revocation-file.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'storm-revocations-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('FileRevocationRecord', () => {
  it('starts empty, records revocations in canonical form once, and persists them (0600)', async () => {
    const record = new FileRevocationRecord(dir);
    expect(await record.list()).toEqual([]);
    const at = new Date('2030-01-01T00:00:00Z');
    await record.revoke('00:AB:CD', at);
    await record.revoke('abcd', new Date('2031-01-01T00:00:00Z'));
    expect(await new FileRevocationRecord(dir).list()).toEqual([{ serial: 'abcd', revokedAt: at }]);
    expect((await stat(join(dir, REVOCATIONS_FILE))).mode & 0o777).toBe(0o600);
  });

  it('hands out strictly increasing CRL numbers across instances', async () => {
    expect(await new FileRevocationRecord(dir).nextCrlNumber()).toBe(1);
    expect(await new FileRevocationRecord(dir).nextCrlNumber()).toBe(2);
  });

  it('loses no revocation when many arrive at once', async () => {
    const record = new FileRevocationRecord(dir);
    await Promise.all(Array.from({ length: 20 }, (_, i) => record.revoke((i + 1).toString(16), new Date())));
    expect((await record.list()).map((r) => r.serial).sort()).toHaveLength(20);
  });

  it('stops loudly on a damaged file instead of publishing an empty CRL', async () => {
    await writeFile(join(dir, REVOCATIONS_FILE), '{"crlNumber": 3, "revoked": [{"serial": 1}]}');
    await expect(new FileRevocationRecord(dir).list()).rejects.toThrow(expect.objectContaining({ code: 'MGR_ERR_PKI_CA_INVALID' }));
    await writeFile(join(dir, REVOCATIONS_FILE), 'not json');
    await expect(new FileRevocationRecord(dir).nextCrlNumber()).rejects.toThrow(/is not JSON/);
  });
});
