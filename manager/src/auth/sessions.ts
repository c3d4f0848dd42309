/**
 * Console sessions in sqlite. The cookie carries a random id; only its sha256 is stored, so a copy
 * of the database logs nobody in. Each session has its own CSRF token, an absolute lifetime and an
 * idle limit (last seen is written at most once a minute).
 *
 * @example
 * const { id, session } = await sessions.create('admin'); // id goes into the cookie
 * const s = await sessions.find(id); // undefined once expired or removed
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Database } from '../db/database.js';

export interface Session {
  readonly username: string;
  readonly csrfToken: string;
  readonly createdAt: string;
  readonly expiresAt: string;
}

export interface SessionOptions {
  /** From login to forced re-login. */
  readonly lifetimeMs?: number;
  /** Without a request for this long, the session ends. */
  readonly idleMs?: number;
  readonly now?: () => Date;
}

interface Row {
  username: string;
  csrf_token: string;
  created_at: string;
  expires_at: string;
  last_seen_at: string;
}

export const SESSION_LIFETIME_MS = 12 * 3600_000;
export const SESSION_IDLE_MS = 2 * 3600_000;
const TOUCH_EVERY_MS = 60_000;
/** Session ids and CSRF tokens: 32 random bytes, base64url (43 characters). */
const SECRET = /^[A-Za-z0-9_-]{43}$/;

const digest = (id: string): string => createHash('sha256').update(id, 'utf8').digest('hex');

export class Sessions {
  readonly lifetimeMs: number;
  readonly idleMs: number;
  private readonly now: () => Date;

  constructor(
    private readonly db: Database,
    opts: SessionOptions = {},
  ) {
    this.lifetimeMs = opts.lifetimeMs ?? SESSION_LIFETIME_MS;
    this.idleMs = opts.idleMs ?? SESSION_IDLE_MS;
    this.now = opts.now ?? (() => new Date());
  }

  async create(username: string): Promise<{ id: string; session: Session }> {
    const now = this.now();
    await this.db.run('DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at <= ?', [
      now.toISOString(),
      new Date(now.getTime() - this.idleMs).toISOString(),
    ]);
    const id = randomBytes(32).toString('base64url');
    const session: Session = {
      username,
      csrfToken: randomBytes(32).toString('base64url'),
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + this.lifetimeMs).toISOString(),
    };
    await this.db.run(
      'INSERT INTO sessions (id_hash, username, csrf_token, created_at, expires_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?)',
      [digest(id), username, session.csrfToken, session.createdAt, session.expiresAt, session.createdAt],
    );
    return { id, session };
  }

  /** The live session behind a cookie value; an expired or idle one is deleted and not returned. */
  async find(id: string): Promise<Session | undefined> {
    if (!SECRET.test(id)) return undefined;
    const key = digest(id);
    const row = await this.db.get<Row>(
      'SELECT username, csrf_token, created_at, expires_at, last_seen_at FROM sessions WHERE id_hash = ?',
      [key],
    );
    if (!row) return undefined;
    const now = this.now().getTime();
    const lastSeen = Date.parse(row.last_seen_at);
    if (Date.parse(row.expires_at) <= now || lastSeen + this.idleMs <= now) {
      await this.db.run('DELETE FROM sessions WHERE id_hash = ?', [key]);
      return undefined;
    }
    if (now - lastSeen >= TOUCH_EVERY_MS)
      await this.db.run('UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?', [new Date(now).toISOString(), key]);
    return { username: row.username, csrfToken: row.csrf_token, createdAt: row.created_at, expiresAt: row.expires_at };
  }

  async remove(id: string): Promise<void> {
    if (SECRET.test(id)) await this.db.run('DELETE FROM sessions WHERE id_hash = ?', [digest(id)]);
  }
}
