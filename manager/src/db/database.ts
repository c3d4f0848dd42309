/**
 * The manager's sqlite3 connection: WAL, `synchronous=FULL`, foreign keys on, one writer at a time.
 * Every statement and every transaction takes one lock, so a transaction's statements never
 * interleave with another caller's on the shared connection. `relaxed()` is the same connection
 * and lock whose writes commit with `synchronous=NORMAL` (no fsync per commit; see its comment).
 *
 * @example
 * const db = await Database.open('/var/lib/storm/storm.db');
 * await db.transaction(async (tx) => { await tx.run('INSERT INTO t VALUES (?)', [1]); });
 */
import { chmod, writeFile } from 'node:fs/promises';
import sqlite3 from 'sqlite3';

export type SqlValue = string | number | bigint | Buffer | null;
export type SqlParams = readonly SqlValue[] | Readonly<Record<string, SqlValue>>;

export interface RunResult {
  readonly lastID: number;
  readonly changes: number;
}

/** What a transaction body may do; the same surface as the database, without the lock. */
export interface Queryable {
  run(sql: string, params?: SqlParams): Promise<RunResult>;
  get<T>(sql: string, params?: SqlParams): Promise<T | undefined>;
  all<T>(sql: string, params?: SqlParams): Promise<T[]>;
  exec(sql: string): Promise<void>;
}

class Statements implements Queryable {
  constructor(protected readonly raw: sqlite3.Database) {}

  run(sql: string, params: SqlParams = []): Promise<RunResult> {
    return new Promise((resolve, reject) => {
      this.raw.run(sql, params, function (this: sqlite3.RunResult, err: Error | null) {
        if (err) reject(err);
        else resolve({ lastID: this.lastID, changes: this.changes });
      });
    });
  }

  get<T>(sql: string, params: SqlParams = []): Promise<T | undefined> {
    return new Promise((resolve, reject) => {
      this.raw.get(sql, params, (err: Error | null, row: T | undefined) => (err ? reject(err) : resolve(row)));
    });
  }

  all<T>(sql: string, params: SqlParams = []): Promise<T[]> {
    return new Promise((resolve, reject) => {
      this.raw.all(sql, params, (err: Error | null, rows: T[]) => (err ? reject(err) : resolve(rows)));
    });
  }

  exec(sql: string): Promise<void> {
    return new Promise((resolve, reject) => this.raw.exec(sql, (err: Error | null) => (err ? reject(err) : resolve())));
  }
}

/** The one lock of a connection, shared by its durable and relaxed views. */
interface Lock {
  tail: Promise<unknown>;
  closed: boolean;
}

export class Database implements Queryable {
  private readonly statements: Statements;

  private constructor(
    private readonly raw: sqlite3.Database,
    readonly file: string,
    private readonly lock: Lock = { tail: Promise.resolve(), closed: false },
    private readonly durable = true,
  ) {
    this.statements = new Statements(raw);
  }

  /**
   * The same connection whose writes skip the fsync of each commit (`synchronous=NORMAL` in WAL):
   * a commit survives a crash of the manager (it is in the WAL, in the kernel), and the file is
   * never corrupted; only an OS crash or power loss can roll back the last commits, to a
   * consistent earlier point. For writes that reconcile rebuilds from the hosts' truth (the
   * operations journal); DHCP leases, certificates, tokens and the directory stay on the durable view.
   */
  relaxed(): Database {
    return new Database(this.raw, this.file, this.lock, false);
  }

  /** Opens (creating if needed, 0600) and applies the durability pragmas. */
  static async open(file: string): Promise<Database> {
    await keepPrivate(file);
    const raw = await new Promise<sqlite3.Database>((resolve, reject) => {
      const db: sqlite3.Database = new sqlite3.Database(file, (err) => (err ? reject(err) : resolve(db)));
    });
    raw.configure('busyTimeout', 5000);
    const db = new Database(raw, file);
    await db.statements.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;');
    return db;
  }

  /** Runs `fn` after every earlier locked call finished; the lock is released even when `fn` fails. */
  private locked<T>(fn: () => Promise<T>): Promise<T> {
    if (this.lock.closed) return Promise.reject(new Error('database is closed'));
    const result = this.lock.tail.then(fn, fn);
    this.lock.tail = result.catch(() => undefined);
    return result;
  }

  /** Under the lock, and for a relaxed view with `synchronous=NORMAL` until `fn` ends. */
  private writing<T>(fn: () => Promise<T>): Promise<T> {
    if (this.durable) return this.locked(fn);
    return this.locked(async () => {
      await this.statements.exec('PRAGMA synchronous = NORMAL');
      try {
        return await fn();
      } finally {
        await this.statements.exec('PRAGMA synchronous = FULL');
      }
    });
  }

  run(sql: string, params?: SqlParams): Promise<RunResult> {
    return this.writing(() => this.statements.run(sql, params));
  }

  get<T>(sql: string, params?: SqlParams): Promise<T | undefined> {
    return this.locked(() => this.statements.get<T>(sql, params));
  }

  all<T>(sql: string, params?: SqlParams): Promise<T[]> {
    return this.locked(() => this.statements.all<T>(sql, params));
  }

  exec(sql: string): Promise<void> {
    return this.writing(() => this.statements.exec(sql));
  }

  /** BEGIN IMMEDIATE … COMMIT around `fn`; any throw rolls back and rethrows. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.writing(async () => {
      await this.statements.exec('BEGIN IMMEDIATE');
      try {
        const out = await fn(this.statements);
        await this.statements.exec('COMMIT');
        return out;
      } catch (err) {
        await this.statements.exec('ROLLBACK').catch(() => undefined);
        throw err;
      }
    });
  }

  /** A single PRAGMA's value, e.g. `pragma('journal_mode')`. */
  async pragma(name: string): Promise<unknown> {
    if (!/^[a-z_]+$/.test(name)) throw new Error(`bad pragma name ${name}`);
    const row = await this.get<Record<string, unknown>>(`PRAGMA ${name}`);
    return row ? Object.values(row)[0] : undefined;
  }

  async close(): Promise<void> {
    await this.locked(async () => undefined);
    this.lock.closed = true;
    await new Promise<void>((resolve, reject) => this.raw.close((err) => (err ? reject(err) : resolve())));
  }
}

/**
 * The database holds token hashes, guest secrets and the directory: owner only. sqlite creates
 * `-wal` and `-shm` with the database file's mode, so a new file is made 0600 before sqlite opens
 * it; one made before this rule is narrowed, with its companions.
 */
async function keepPrivate(file: string): Promise<void> {
  if (file === '' || file === ':memory:') return;
  await writeFile(file, '', { flag: 'a', mode: 0o600 });
  for (const f of [file, `${file}-wal`, `${file}-shm`]) {
    await chmod(f, 0o600).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }
}
