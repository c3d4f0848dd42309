/**
 * The database's part of a backup: `VACUUM INTO` a private file while the manager keeps running,
 * then facts about that snapshot for the manifest. VACUUM INTO reads inside one read transaction
 * (in WAL mode the manager's writers never wait for it) and writes a self-contained, compacted
 * copy: no -wal beside it, and no free pages still holding deleted rows.
 *
 * @example
 * await snapshotDatabase('/var/lib/storm/manager/storm.db', '/backups/.storm-backup-x/storm.db');
 * const facts = await describeSnapshot('/backups/.storm-backup-x/storm.db');
 */
import sqlite3 from 'sqlite3';
import { Database } from '../db/database.js';
import { LOCAL_CHANNEL_ID } from '../channels/channel-service.js';
import { BackupErr } from './errors.js';
import type { Manifest } from './manifest.js';

/** Copies the live database at `source` (never created here) into `target`, which must not exist. */
export async function snapshotDatabase(source: string, target: string): Promise<void> {
  const raw = await new Promise<sqlite3.Database>((resolve, reject) => {
    const db: sqlite3.Database = new sqlite3.Database(source, sqlite3.OPEN_READWRITE, (err) => (err ? reject(err) : resolve(db)));
  }).catch((err: unknown) => {
    throw BackupErr.MGR_ERR_BACKUP_SOURCE(`cannot open ${source}: ${err instanceof Error ? err.message : String(err)}`);
  });
  // The running manager may hold the write lock for a moment; wait for it as the manager itself does.
  raw.configure('busyTimeout', 15_000);
  try {
    await new Promise<void>((resolve, reject) => raw.run('VACUUM INTO ?', [target], (err) => (err ? reject(err) : resolve())));
  } finally {
    await new Promise<void>((resolve) => raw.close(() => resolve()));
  }
}

export interface SnapshotFacts {
  readonly schemaVersion: number;
  readonly summary: Manifest['summary'];
  /** Every layer a package of the local channel is made of: no other channel can give these back. */
  readonly packagedLayers: ReadonlySet<string>;
}

/** Checks the snapshot's integrity and reads what the manifest says about it. */
export async function describeSnapshot(path: string): Promise<SnapshotFacts> {
  const db = await Database.open(path);
  try {
    const check = await db.get<{ integrity_check: string }>('PRAGMA integrity_check');
    if (check?.integrity_check !== 'ok')
      throw BackupErr.MGR_ERR_BACKUP_SOURCE(`the database snapshot fails its integrity check: ${check?.integrity_check ?? 'no answer'}`);
    const tables = new Set((await db.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")).map((t) => t.name));
    const count = async (table: string, where = '', params: string[] = []) =>
      tables.has(table) ? ((await db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table} ${where}`, params))?.n ?? 0) : 0;
    const summary = {
      hosts: await count('hosts'),
      instances: await count('instances'),
      channels: await count('channels', 'WHERE id != ?', [LOCAL_CHANNEL_ID]),
      packages: await count('packages'),
      apiTokens: await count('api_tokens'),
    };
    const packagedLayers = new Set<string>();
    if (tables.has('packages')) {
      for (const row of await db.all<{ sha256: string; files: string }>('SELECT sha256, files FROM packages')) {
        packagedLayers.add(row.sha256);
        for (const f of parseFiles(row.files)) packagedLayers.add(f);
      }
    }
    return { schemaVersion: Number(await db.pragma('user_version')), summary, packagedLayers };
  } finally {
    await db.close();
  }
}

/** The sha256 of each file in a package's recorded stack (kernel and initrd included). */
function parseFiles(json: string): string[] {
  try {
    const spec = JSON.parse(json) as { files?: { sha256?: unknown }[] };
    return (spec.files ?? []).map((f) => f.sha256).filter((s): s is string => typeof s === 'string' && /^[0-9a-f]{64}$/.test(s));
  } catch {
    return [];
  }
}
