/**
 * createBackup and restoreBackup on a real manager's data folder (made by createContext, real
 * sqlite): what is kept and left out, modes, a consistent snapshot under concurrent writes, and a
 * target folder that nothing but a complete, checked restore changes.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { managerConfig } from '../config.js';
import { createContext } from '../context.js';
import { Database } from '../db/database.js';
import { SCHEMA_VERSION } from '../db/migrations.js';
import { createBackup } from './backup.js';
import type { ScryptParams } from './header.js';
import { verifyBackup } from './list.js';
import { restoreBackup } from './restore.js';

const KDF: ScryptParams = { log2N: 10, r: 8, p: 1 };
const PASS = 'a passphrase long enough';
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

let work: string;
let data: string;
const packaged = Buffer.from('a deployment layer made by package on this manager');
const cached = Buffer.from('a layer any channel can give back');

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'storm-backup-'));
  data = join(work, 'manager');
  const ctx = await createContext(managerConfig({ data, logLevel: 'silent' }));
  await ctx.db.run('INSERT INTO packages (name, version, base_name, base_version, sha256, size, files) VALUES (?, ?, ?, ?, ?, ?, ?)', [
    'site',
    '1.0.0',
    'hello-web',
    '1.1.0',
    sha(packaged),
    packaged.length,
    JSON.stringify({ files: [{ sha256: sha(packaged) }] }),
  ]);
  await ctx.close();
  await writeFile(join(data, 'images', sha(packaged)), packaged);
  await writeFile(join(data, 'images', sha(cached)), cached);
  await writeFile(join(data, 'images', '.partial', `${'e'.repeat(64)}.part`), 'half a download');
  await writeFile(join(data, 'local-channel', 'site', 'channel.xml'), '<rss/>');
  await writeFile(join(data, 'manager.url'), 'https://127.0.0.1:8443\n');
  await writeFile(join(data, 'notes.txt'), 'an administrator left this here');
}, 120_000);
afterAll(() => rm(work, { recursive: true, force: true }));

const backup = (to: string, dataDir = data) => createBackup({ dataDir, to, passphrase: PASS, kdf: KDF, chunkBytes: 4096 });
const restore = (from: string, dataDir: string, opts: { passphrase?: string; force?: boolean } = {}) =>
  restoreBackup({ from, dataDir, passphrase: async () => opts.passphrase ?? PASS, force: opts.force ?? false });

describe('backup', () => {
  it('keeps the database, the CA and keys, the token, the channel key and packaged layers; lists what it leaves out', async () => {
    const { manifest, bytes } = await backup(join(work, 'full.stormbak'));
    expect((await stat(join(work, 'full.stormbak'))).mode & 0o777).toBe(0o600);
    expect(bytes).toBe((await stat(join(work, 'full.stormbak'))).size);
    expect(manifest.files.map((f) => `${f.path} ${f.kind}`)).toEqual([
      'admin.token admin-token',
      `images/${sha(packaged)} packaged-layer`,
      'local-channel/publisher.key channel-key',
      'local-channel/publisher.pub channel-key',
      'pki/ca.key pki',
      'pki/ca.pem pki',
      'pki/manager-client.key pki',
      'pki/manager-client.pem pki',
      'pki/manager-https.key pki',
      'pki/manager-https.pem pki',
      'storm.db database',
    ]);
    const omitted = Object.fromEntries(manifest.omitted.map((o) => [o.path, o]));
    expect(omitted['images/']).toMatchObject({
      files: 2,
      bytes: cached.length + 'half a download'.length,
      reason: expect.stringMatching(/fetched again from their channels/),
    });
    expect(omitted['local-channel/site/']).toMatchObject({ files: 1, reason: expect.stringMatching(/rebuilt at start/) });
    expect(omitted['manager.url']).toMatchObject({ files: 1, reason: expect.stringMatching(/written again at every start/) });
    expect(omitted['notes.txt']).toMatchObject({ files: 1, reason: expect.stringMatching(/not recognised/) });
    expect(manifest).toMatchObject({
      schemaVersion: SCHEMA_VERSION,
      source: { dataDir: data, url: 'https://127.0.0.1:8443' },
      summary: { packages: 1, apiTokens: 1 },
    });
    expect(manifest.ca.fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
    const listed = await verifyBackup(join(work, 'full.stormbak'), async () => PASS);
    expect(listed.manifest).toEqual(manifest);
    // Nothing of the work folder is left beside the backup.
    expect((await readdir(work)).sort()).toEqual(['full.stormbak', 'manager']);
  });

  it('takes a consistent snapshot while another connection keeps committing', async () => {
    const writer = await Database.open(join(data, 'storm.db'));
    let stop = false;
    let batches = 0;
    const writing = (async () => {
      while (!stop) {
        const n = batches;
        await writer.transaction(async (tx) => {
          await tx.run('INSERT INTO settings (key, value) VALUES (?, ?)', [`test-${n}-a`, 'x']);
          await tx.run('INSERT INTO settings (key, value) VALUES (?, ?)', [`test-${n}-b`, 'y']);
        });
        batches += 1;
      }
    })();
    try {
      while (batches < 5) await new Promise((r) => setTimeout(r, 5));
      await backup(join(work, 'busy.stormbak'));
    } finally {
      stop = true;
      await writing;
    }
    const target = join(work, 'busy');
    await restore(join(work, 'busy.stormbak'), target);
    const db = await Database.open(join(target, 'storm.db'));
    const count = async (suffix: string) =>
      (await db.get<{ n: number }>("SELECT COUNT(*) AS n FROM settings WHERE key LIKE 'test-%-' || ?", [suffix]))!.n;
    const [a, b] = [await count('a'), await count('b')];
    await db.close();
    await writer.run("DELETE FROM settings WHERE key LIKE 'test-%'");
    await writer.close();
    expect(a).toBeGreaterThanOrEqual(5);
    expect(b).toBe(a);
    await rm(target, { recursive: true });
  });

  it('refuses a folder that is not a manager data folder', async () => {
    await mkdir(join(work, 'empty'));
    await expect(backup(join(work, 'x.stormbak'), join(work, 'empty'))).rejects.toMatchObject({
      code: 'MGR_ERR_BACKUP_SOURCE',
      message: expect.stringMatching(/has no storm.db/),
    });
    await rm(join(work, 'empty'), { recursive: true });
  });
});

describe('restore', () => {
  it('writes every kept file byte for byte with private modes, and nothing else', async () => {
    const target = join(work, 'restored');
    const { manifest } = await restore(join(work, 'full.stormbak'), target);
    expect((await stat(target)).mode & 0o777).toBe(0o700);
    for (const f of manifest.files) {
      const st = await stat(join(target, f.path));
      expect(st.mode & 0o777, f.path).toBe(
        f.path.endsWith('.pem') || f.path.endsWith('.pub') || f.kind === 'packaged-layer' ? 0o644 : 0o600,
      );
      if (f.kind !== 'database') expect(await readFile(join(target, f.path)), f.path).toEqual(await readFile(join(data, f.path)));
    }
    for (const d of ['pki', 'local-channel', 'images']) expect((await stat(join(target, d))).mode & 0o777, d).toBe(0o700);
    expect((await readdir(target)).sort()).toEqual(['admin.token', 'images', 'local-channel', 'pki', 'storm.db']);
    const db = await Database.open(join(target, 'storm.db'));
    expect(await db.get('SELECT name, sha256 FROM packages')).toEqual({ name: 'site', sha256: sha(packaged) });
    await db.close();
    await rm(target, { recursive: true });
  });

  it('refuses a non-empty folder and leaves it as it was; --force moves it aside first', async () => {
    const target = join(work, 'occupied');
    await mkdir(target);
    await writeFile(join(target, 'keep.txt'), 'mine');
    await expect(restore(join(work, 'full.stormbak'), target)).rejects.toMatchObject({
      code: 'MGR_ERR_BACKUP_TARGET_NOT_EMPTY',
      message: expect.stringMatching(/holds 1 entry.*--force/),
    });
    expect(await readdir(target)).toEqual(['keep.txt']);
    const { replacedTo } = await restore(join(work, 'full.stormbak'), target, { force: true });
    expect(replacedTo).toMatch(/occupied\.replaced-/);
    expect(await readFile(join(replacedTo!, 'keep.txt'), 'utf8')).toBe('mine');
    expect(await readdir(target)).toContain('storm.db');
    await rm(target, { recursive: true });
    await rm(replacedTo!, { recursive: true });
  });

  it('restores into an existing empty folder (a fresh volume, say)', async () => {
    const target = join(work, 'empty-target');
    await mkdir(target, { mode: 0o755 });
    await restore(join(work, 'full.stormbak'), target);
    expect((await stat(target)).mode & 0o777).toBe(0o700);
    await rm(target, { recursive: true });
  });

  it('refuses a wrong passphrase and a database newer than this manager, leaving no trace', async () => {
    const target = join(work, 'never');
    await expect(restore(join(work, 'full.stormbak'), target, { passphrase: 'not the passphrase' })).rejects.toMatchObject({
      code: 'MGR_ERR_BACKUP_PASSPHRASE',
    });
    const db = await Database.open(join(data, 'storm.db'));
    await db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    try {
      await backup(join(work, 'newer.stormbak'));
    } finally {
      await db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
      await db.close();
    }
    await expect(restore(join(work, 'newer.stormbak'), target)).rejects.toMatchObject({
      code: 'MGR_ERR_BACKUP_INCOMPATIBLE',
      message: expect.stringMatching(/schema \d+, this storm-manager knows up to \d+/),
    });
    expect((await readdir(work)).filter((n) => n.includes('never'))).toEqual([]);
  });
});
