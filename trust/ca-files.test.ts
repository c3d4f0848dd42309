import { chmod, mkdtemp, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CA_CERT_FILE, CA_KEY_FILE, loadOrCreateCaFiles } from './ca-files.js';

const material = { certPem: 'CERT\n', keyPem: 'KEY\n' };
let dir: string;
beforeEach(async () => {
  dir = join(await mkdtemp(join(tmpdir(), 'storm-ca-files-')), 'pki');
});
afterEach(() => rm(join(dir, '..'), { recursive: true, force: true }));

const mode = async (path: string): Promise<number> => (await stat(path)).mode & 0o777;
const invalid = expect.objectContaining({ code: 'MGR_ERR_PKI_CA_INVALID' });

describe('CA files', () => {
  it('are created once, with modes 0700 (folder), 0600 (key) and 0644 (certificate)', async () => {
    const first = await loadOrCreateCaFiles(dir, async () => material);
    expect(first).toEqual({ ...material, created: true });
    expect(await mode(dir)).toBe(0o700);
    expect(await mode(join(dir, CA_KEY_FILE))).toBe(0o600);
    expect(await mode(join(dir, CA_CERT_FILE))).toBe(0o644);
    const second = await loadOrCreateCaFiles(dir, () => Promise.reject(new Error('must not generate again')));
    expect(second).toEqual({ ...material, created: false });
  });

  it('refuse half a pair, naming both files, and leave it untouched', async () => {
    await loadOrCreateCaFiles(dir, async () => material);
    await unlink(join(dir, CA_CERT_FILE));
    await expect(loadOrCreateCaFiles(dir, async () => material)).rejects.toThrow(invalid);
    await expect(loadOrCreateCaFiles(dir, async () => material)).rejects.toThrow(/ca\.key exists but .*ca\.pem does not/);
    expect(await readFile(join(dir, CA_KEY_FILE), 'utf8')).toBe(material.keyPem);

    await unlink(join(dir, CA_KEY_FILE));
    await writeFile(join(dir, CA_CERT_FILE), material.certPem);
    await expect(loadOrCreateCaFiles(dir, async () => material)).rejects.toThrow(/ca\.pem exists but .*ca\.key does not/);
  });

  it('refuse a CA key that group or others can read', async () => {
    await loadOrCreateCaFiles(dir, async () => material);
    await chmod(join(dir, CA_KEY_FILE), 0o640);
    await expect(loadOrCreateCaFiles(dir, async () => material)).rejects.toThrow(/mode 640; run chmod 600/);
  });

  it('write nothing when generation fails', async () => {
    await expect(loadOrCreateCaFiles(dir, () => Promise.reject(new Error('no entropy')))).rejects.toThrow('no entropy');
    await expect(stat(join(dir, CA_KEY_FILE))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
