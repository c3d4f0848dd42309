/**
 * `storm-manager restore --from FILE --data DIR`: decrypts and checks every byte into a private
 * temporary folder beside DIR, checks what a manager needs to start (the CA and its key match, the
 * database passes its integrity check and is not newer than this manager), and only then renames
 * it into place. Any failure removes the temporary folder and leaves DIR as it was.
 *
 * @example
 * await restoreBackup({ from: '/backups/m.stormbak', dataDir: '/var/lib/storm/manager', passphrase: () => readPassphrase(...) });
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { chmod, mkdir, mkdtemp, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { Database } from '../db/database.js';
import { SCHEMA_VERSION } from '../db/migrations.js';
import { openBackup } from './container.js';
import { DATABASE_FILE, REQUIRED_FILES } from './data-folder.js';
import { BackupErr } from './errors.js';
import type { Manifest, ManifestFile } from './manifest.js';
import { readPayload } from './payload.js';
import { fsyncDir } from './sync.js';

export interface RestoreOptions {
  readonly from: string;
  readonly dataDir: string;
  /** Asked only once the file is known to be a backup and the target may be written. */
  readonly passphrase: () => Promise<string>;
  /** Move a non-empty DIR aside (to DIR.replaced-<time>) instead of refusing. */
  readonly force?: boolean;
}

export interface RestoreResult {
  readonly manifest: Manifest;
  readonly dataDir: string;
  /** Where a non-empty DIR was moved with --force. */
  readonly replacedTo?: string;
}

type Target = 'absent' | 'empty' | 'replace';

/** What is at DIR now: refuses a non-empty folder without `force`, and anything that is not a folder. */
export async function checkTarget(dataDir: string, force: boolean): Promise<Target> {
  const st = await stat(dataDir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (!st) return 'absent';
  if (!st.isDirectory()) throw BackupErr.MGR_ERR_BACKUP_TARGET_NOT_EMPTY(`${dataDir} exists and is not a folder`);
  const entries = await readdir(dataDir);
  if (!entries.length) return 'empty';
  if (force) return 'replace';
  throw BackupErr.MGR_ERR_BACKUP_TARGET_NOT_EMPTY(
    `${dataDir} holds ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}; restore into a new or empty folder, or pass --force to move it aside to ${basename(dataDir)}.replaced-<time> first`,
  );
}

export async function restoreBackup(opts: RestoreOptions): Promise<RestoreResult> {
  const dataDir = resolve(opts.dataDir);
  const target = await checkTarget(dataDir, opts.force ?? false);
  const backup = await openBackup(resolve(opts.from));
  try {
    const unlocked = await backup.unlock(await opts.passphrase());
    await mkdir(dirname(dataDir), { recursive: true });
    const tmp = await mkdtemp(join(dirname(dataDir), `.${basename(dataDir)}.restore-`));
    try {
      const manifest = await readPayload(unlocked.payload(), unlocked.header.payloadBytes, (file, bytes) =>
        writeRestored(tmp, file, bytes),
      );
      await checkRestored(tmp, manifest);
      await continueCrlNumbers(join(tmp, DATABASE_FILE));
      await syncTree(tmp, manifest);
      const replacedTo = await moveIntoPlace(tmp, dataDir, target);
      return { manifest, dataDir, ...(replacedTo ? { replacedTo } : {}) };
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      throw err;
    }
  } finally {
    await backup.close();
  }
}

async function writeRestored(root: string, file: ManifestFile, bytes: AsyncIterable<Buffer>): Promise<void> {
  const path = join(root, file.path);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const fh = await open(path, 'wx', 0o600);
  try {
    for await (const piece of bytes) await fh.write(piece);
    await fh.sync();
  } finally {
    await fh.close();
  }
  // Exactly the recorded mode, whatever the umask; the survey never records more than 0644.
  await chmod(path, file.mode);
}

/** What a manager needs to start from this folder, checked before it replaces anything. */
async function checkRestored(root: string, manifest: Manifest): Promise<void> {
  const paths = new Set(manifest.files.map((f) => f.path));
  const missing = REQUIRED_FILES.filter((p) => !paths.has(p));
  if (missing.length) throw BackupErr.MGR_ERR_BACKUP_FORMAT(`the backup has no ${missing.join(', ')}`);
  if (manifest.schemaVersion > SCHEMA_VERSION) {
    throw BackupErr.MGR_ERR_BACKUP_INCOMPATIBLE(
      `its database has schema ${manifest.schemaVersion}, this storm-manager knows up to ${SCHEMA_VERSION}: restore it with a newer storm-manager`,
    );
  }
  try {
    const cert = new X509Certificate(await readFile(join(root, 'pki/ca.pem')));
    if (!cert.checkPrivateKey(createPrivateKey(await readFile(join(root, 'pki/ca.key')))))
      throw new Error('pki/ca.key is not the key of pki/ca.pem');
  } catch (err) {
    throw BackupErr.MGR_ERR_BACKUP_INCOMPATIBLE(`the CA in the backup is unusable: ${err instanceof Error ? err.message : String(err)}`);
  }
  const db = await Database.open(join(root, DATABASE_FILE));
  try {
    const check = await db.get<{ integrity_check: string }>('PRAGMA integrity_check');
    if (check?.integrity_check !== 'ok')
      throw BackupErr.MGR_ERR_BACKUP_DAMAGED(`the database fails its integrity check: ${check?.integrity_check ?? 'no answer'}`);
  } finally {
    await db.close();
  }
}

/**
 * A host loads a CRL only when its number is higher than the one it holds, and the old manager may
 * have gone on numbering after the backup (each start and revocation adds one). Restored numbers
 * continue from the clock in milliseconds, above anything counting by ones can have reached, so the
 * restored manager's next revocation reaches every host. (The `crl_number` setting of trust/revocation-store.ts.)
 */
async function continueCrlNumbers(dbFile: string, now = Date.now()): Promise<void> {
  const db = await Database.open(dbFile);
  try {
    await db.run(
      "INSERT INTO settings (key, value) VALUES ('crl_number', ?) ON CONFLICT(key) DO UPDATE SET value = CAST(MAX(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER)) AS TEXT)",
      [String(now)],
    );
  } finally {
    await db.close();
  }
}

/** Every restored folder is fsynced, deepest first, so the renames below publish complete contents. */
async function syncTree(root: string, manifest: Manifest): Promise<void> {
  const dirs = new Set<string>([root]);
  for (const f of manifest.files) for (let d = dirname(f.path); d !== '.'; d = dirname(d)) dirs.add(join(root, d));
  for (const d of [...dirs].sort((a, b) => b.length - a.length)) await fsyncDir(d);
}

async function moveIntoPlace(tmp: string, dataDir: string, target: Target): Promise<string | undefined> {
  let aside: string | undefined;
  if (target === 'replace') {
    aside = `${dataDir}.replaced-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    await rename(dataDir, aside);
  }
  try {
    // rename(2) replaces an empty folder, and fails if files appeared in it since the check.
    await rename(tmp, dataDir);
  } catch (err) {
    if (aside) await rename(aside, dataDir).catch(() => undefined);
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTEMPTY' || code === 'EEXIST')
      throw BackupErr.MGR_ERR_BACKUP_TARGET_NOT_EMPTY(`${dataDir} received files during the restore; nothing was changed`);
    throw err;
  }
  await fsyncDir(dirname(dataDir));
  return aside;
}
