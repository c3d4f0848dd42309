/**
 * `storm-manager backup --to FILE`: a consistent, encrypted copy of a manager's data folder, made by
 * a second process beside the running manager (docs/backup.md says why). The database is snapshot
 * with VACUUM INTO; the CA, its key, the tokens and the channel key are read as they are; the file
 * appears at FILE only once complete.
 *
 * @example
 * const { manifest, bytes } = await createBackup({ dataDir: '/var/lib/storm/manager', to: '/backups/m.stormbak', passphrase });
 */
import { createHash, X509Certificate } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { access, mkdtemp, readFile, rename, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { encryptPayload } from './container.js';
import { DATABASE_FILE, type PlannedFile, REQUIRED_FILES, surveyDataFolder } from './data-folder.js';
import { BackupErr } from './errors.js';
import type { ScryptParams } from './header.js';
import { encodeManifest, type Manifest, MANIFEST_FORMAT, type ManifestFile, payloadBytes } from './manifest.js';
import { describeSnapshot, snapshotDatabase } from './snapshot.js';
import { fsyncDir, fsyncPath } from './sync.js';
import { dumpRealm, kdcFiles } from '../kerberos/kdc-files.js';

export interface BackupOptions {
  readonly dataDir: string;
  readonly to: string;
  readonly passphrase: string;
  /** Tests lower the cost; the command always uses STRONG_SCRYPT. */
  readonly kdf?: ScryptParams;
  readonly chunkBytes?: number;
}

export interface BackupResult {
  readonly manifest: Manifest;
  /** The backup file's length. */
  readonly bytes: number;
}

/** Small files are read once into memory, so the hash in the manifest is of the very bytes written. */
const IN_MEMORY_LIMIT = 4 * 1024 * 1024;

export async function createBackup(opts: BackupOptions): Promise<BackupResult> {
  const dataDir = resolve(opts.dataDir);
  const to = resolve(opts.to);
  for (const rel of REQUIRED_FILES) {
    await access(join(dataDir, rel)).catch(() => {
      throw BackupErr.MGR_ERR_BACKUP_SOURCE(`${dataDir} is not a manager's data folder: it has no ${rel} (pass the manager's --data DIR)`);
    });
  }
  // Private and on the target's file system: the snapshot holds secrets, and the rename stays atomic.
  const work = await mkdtemp(join(dirname(to), `.${basename(to)}.work-`)).catch((err: NodeJS.ErrnoException) => {
    throw new Error(`cannot write beside ${to}: ${err.code ?? err.message} (does ${dirname(to)} exist, and may this user write there?)`);
  });
  const partial = join(work, 'backup');
  try {
    const snapshot = join(work, DATABASE_FILE);
    await snapshotDatabase(join(dataDir, DATABASE_FILE), snapshot);
    const facts = await describeSnapshot(snapshot);
    const survey = await surveyDataFolder(dataDir, facts.packagedLayers);
    const planned = [
      ...survey.files.map((f) => (f.kind === 'database' ? { ...f, source: snapshot } : f)),
      ...(await realmDump(dataDir, work, survey.files)),
    ];
    const contents = await Promise.all(planned.map(readForBackup));
    const manifest: Manifest = {
      format: MANIFEST_FORMAT,
      createdAt: new Date().toISOString(),
      source: { dataDir, machine: hostname(), url: (await readFile(join(dataDir, 'manager.url'), 'utf8').catch(() => '')).trim() },
      schemaVersion: facts.schemaVersion,
      ca: describeCa(contents.find((c) => c.file.path === 'pki/ca.pem')?.bytes),
      summary: facts.summary,
      files: contents.map((c) => c.file),
      omitted: survey.omitted,
    };
    const sealed = encryptPayload(payload(manifest, contents), {
      passphrase: opts.passphrase,
      payloadBytes: payloadBytes(manifest),
      ...(opts.kdf ? { kdf: opts.kdf } : {}),
      ...(opts.chunkBytes ? { chunkBytes: opts.chunkBytes } : {}),
    });
    await pipeline(Readable.from(sealed), createWriteStream(partial, { flags: 'wx', mode: 0o600 }));
    await fsyncPath(partial);
    await rename(partial, to);
    await fsyncDir(dirname(to));
    return { manifest, bytes: (await stat(to)).size };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * The Kerberos realm's database as a consistent dump (`kdb5_util dump`, beside the running KDC), when
 * the folder has a realm; a dump already there (restored, not yet loaded) is kept as it is instead.
 */
async function realmDump(dataDir: string, work: string, surveyed: readonly PlannedFile[]): Promise<PlannedFile[]> {
  const files = kdcFiles(dataDir);
  const have = (p: string) => surveyed.some((f) => f.path === p);
  if (
    !have('kerberos/stash') ||
    have('kerberos/principal.dump') ||
    !(await access(files.database).then(
      () => true,
      () => false,
    ))
  )
    return [];
  const to = join(work, 'principal.dump');
  await dumpRealm(files, to);
  return [{ path: 'kerberos/principal.dump', kind: 'kerberos', mode: 0o600, size: (await stat(to)).size, source: to }];
}

interface Content {
  readonly file: ManifestFile;
  readonly source: string;
  /** Set for small files: these exact bytes are written. */
  readonly bytes?: Buffer;
}

async function readForBackup(f: PlannedFile): Promise<Content> {
  const { source, ...rest } = f;
  if (f.kind === 'packaged-layer') {
    // Cache files are named by their sha256 and never change in place; the write checks it again.
    return { source, file: { ...rest, sha256: basename(source) } };
  }
  const size = (await stat(source)).size;
  if (size <= IN_MEMORY_LIMIT) {
    const bytes = await readFile(source);
    return { source, bytes, file: { ...rest, size: bytes.length, sha256: sha256(bytes) } };
  }
  return { source, file: { ...rest, size, sha256: await hashFile(source) } };
}

async function* payload(manifest: Manifest, contents: readonly Content[]): AsyncGenerator<Buffer> {
  yield encodeManifest(manifest);
  for (const c of contents) {
    if (c.bytes) {
      yield c.bytes;
      continue;
    }
    const hash = createHash('sha256');
    let seen = 0;
    // Stops at the size the manifest announced: a file that grew meanwhile is caught by its hash.
    const bytes = c.file.size > 0 ? (createReadStream(c.source, { end: c.file.size - 1 }) as AsyncIterable<Buffer>) : [];
    for await (const piece of bytes) {
      hash.update(piece);
      seen += piece.length;
      yield piece;
    }
    if (seen !== c.file.size || hash.digest('hex') !== c.file.sha256) {
      throw BackupErr.MGR_ERR_BACKUP_SOURCE(`${c.file.path} changed while it was being read, or is damaged; run the backup again`);
    }
  }
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const piece of createReadStream(path) as AsyncIterable<Buffer>) hash.update(piece);
  return hash.digest('hex');
}

function describeCa(pem: Buffer | undefined): Manifest['ca'] {
  if (!pem) throw BackupErr.MGR_ERR_BACKUP_SOURCE('pki/ca.pem is not a regular file');
  try {
    const cert = new X509Certificate(pem);
    return {
      subject: cert.subject.replace(/\n/g, ', '),
      fingerprint: `sha256:${cert.fingerprint256.replace(/:/g, '').toLowerCase()}`,
      notAfter: new Date(cert.validTo).toISOString(),
    };
  } catch (err) {
    throw BackupErr.MGR_ERR_BACKUP_SOURCE(`pki/ca.pem is not a certificate: ${err instanceof Error ? err.message : String(err)}`);
  }
}
