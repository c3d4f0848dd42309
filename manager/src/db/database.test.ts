import { chmod, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Database } from './database.js';
import { migrate, MIGRATIONS, SCHEMA_VERSION, schemaVersion } from './migrations.js';

let dir: string;
let db: Database;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'storm-db-'));
  db = await Database.open(join(dir, 'storm.db'));
});
afterEach(async () => {
  await db.close().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

describe('Database', () => {
  it('runs in WAL mode with synchronous=FULL and foreign keys', async () => {
    expect(await db.pragma('journal_mode')).toBe('wal');
    expect(await db.pragma('synchronous')).toBe(2);
    expect(await db.pragma('foreign_keys')).toBe(1);
  });

  it('commits on the relaxed view with synchronous=NORMAL, under the same lock, and is FULL again after, also after a failure', async () => {
    await db.exec('CREATE TABLE t (v INTEGER)');
    const relaxed = db.relaxed();
    const order: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const inside = relaxed.transaction(async (tx) => {
      order.push(`relaxed sync=${Object.values((await tx.get<Record<string, number>>('PRAGMA synchronous'))!)[0]}`);
      await held;
      await tx.run('INSERT INTO t VALUES (1)');
    });
    // A durable write queued meanwhile waits for the relaxed transaction: one lock for both views.
    const after = db.run('INSERT INTO t VALUES (2)').then(() => order.push('durable'));
    await new Promise((r) => setTimeout(r, 20));
    order.push('released');
    release();
    await Promise.all([inside, after]);
    expect(order).toEqual(['relaxed sync=1', 'released', 'durable']);
    expect(await db.pragma('synchronous')).toBe(2);
    await expect(relaxed.run('INSERT INTO nowhere VALUES (1)')).rejects.toThrow(/no such table/);
    expect(await db.pragma('synchronous')).toBe(2);
    expect(await db.all('SELECT v FROM t ORDER BY v')).toEqual([{ v: 1 }, { v: 2 }]);
  });

  it('keeps the database and its WAL files to their owner (0600), also one made 0644 before', async () => {
    await db.exec('CREATE TABLE t (v INTEGER)');
    const modes = async () =>
      Object.fromEntries(
        await Promise.all((await readdir(dir)).map(async (f) => [f, ((await stat(join(dir, f))).mode & 0o777).toString(8)] as const)),
      );
    expect(await modes()).toEqual({ 'storm.db': '600', 'storm.db-wal': '600', 'storm.db-shm': '600' });
    await db.close();
    const old = join(dir, 'old.db');
    await writeFile(old, '');
    await chmod(old, 0o644);
    db = await Database.open(old);
    expect((await stat(old)).mode & 0o777).toBe(0o600);
  });

  it('rolls a failed transaction back and keeps serving', async () => {
    await db.exec('CREATE TABLE t (v INTEGER UNIQUE)');
    await expect(
      db.transaction(async (tx) => {
        await tx.run('INSERT INTO t VALUES (?)', [1]);
        await tx.run('INSERT INTO t VALUES (?)', [1]);
      }),
    ).rejects.toThrow(/UNIQUE/);
    expect(await db.all('SELECT v FROM t')).toEqual([]);
    await db.run('INSERT INTO t VALUES (?)', [2]);
    expect(await db.get<{ n: number }>('SELECT count(*) AS n FROM t')).toEqual({ n: 1 });
  });

  it('keeps statements of concurrent callers out of an open transaction', async () => {
    await db.exec('CREATE TABLE t (v INTEGER)');
    const slow = db.transaction(async (tx) => {
      await tx.run('INSERT INTO t VALUES (1)');
      await new Promise((r) => setTimeout(r, 20));
      throw new Error('abort');
    });
    const outside = db.run('INSERT INTO t VALUES (2)');
    await expect(slow).rejects.toThrow('abort');
    await outside;
    expect(await db.all('SELECT v FROM t')).toEqual([{ v: 2 }]);
  });
});

describe('migrations', () => {
  it('brings an empty database to the latest version, idempotently', async () => {
    expect(await migrate(db)).toBe(SCHEMA_VERSION);
    expect(await migrate(db)).toBe(SCHEMA_VERSION);
    expect(await db.all("SELECT name FROM sqlite_master WHERE name = 'api_tokens'")).toHaveLength(1);
  });

  it('leaves the version unchanged when a migration fails', async () => {
    const broken = [...MIGRATIONS, { version: SCHEMA_VERSION + 1, name: 'broken', sql: 'CREATE TABLE x (; ' }];
    await migrate(db);
    await expect(migrate(db, broken)).rejects.toThrow();
    expect(await schemaVersion(db)).toBe(SCHEMA_VERSION);
  });

  it('refuses two migrations with one number', async () => {
    await expect(migrate(db, [...MIGRATIONS, { ...MIGRATIONS[0]!, name: 'again' }])).rejects.toThrow(/two migrations are numbered 1/);
  });

  it('refuses a database newer than the code', async () => {
    await db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 5}`);
    await expect(migrate(db)).rejects.toThrow(/newer/);
  });
});
