/**
 * Console users in sqlite (`users`: username, scrypt hash). The `admin` account is made on first
 * start with a generated password (shown once by main.ts) or set from `--admin-password-file` at
 * every start, which is also how a lost password is reset.
 *
 * @example
 * const users = new Users(db);
 * const admin = await ensureAdminUser(users, config.adminPasswordFile);
 * await users.verify('admin', password); // true or false
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Database } from '../db/database.js';
import { DECOY_HASH, hashPassword, MAX_PASSWORD_LENGTH, verifyPassword } from './passwords.js';

export const ADMIN_USER = 'admin';
export const MIN_PASSWORD_LENGTH = 8;

export class Users {
  constructor(private readonly db: Database) {}

  async exists(username: string): Promise<boolean> {
    return (await this.db.get('SELECT 1 AS x FROM users WHERE username = ?', [username])) !== undefined;
  }

  /** Creates the user or replaces its password. */
  async setPassword(username: string, password: string): Promise<void> {
    const hash = await hashPassword(password);
    await this.db.run(
      `INSERT INTO users (username, password_hash) VALUES (?, ?)
       ON CONFLICT(username) DO UPDATE SET password_hash = excluded.password_hash, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`,
      [username, hash],
    );
  }

  /** True when the user exists and the password is theirs; costs one scrypt either way. */
  async verify(username: string, password: string): Promise<boolean> {
    const row = await this.db.get<{ password_hash: string }>('SELECT password_hash FROM users WHERE username = ?', [username]);
    const ok = await verifyPassword(password, row?.password_hash ?? DECOY_HASH);
    return ok && row !== undefined;
  }
}

/** How this start settled the admin account; `password` is set only when it was generated now. */
export interface AdminAccount {
  readonly username: string;
  readonly source: 'generated' | 'file' | 'existing';
  readonly password?: string;
  readonly file?: string;
}

/** The first line of the file, without its line ending; refused when too short or too long. */
export async function readPasswordFile(file: string): Promise<string> {
  const text = await readFile(file, 'utf8');
  const password = text.split(/\r?\n/, 1)[0] ?? '';
  if (password.length < MIN_PASSWORD_LENGTH || password.length > MAX_PASSWORD_LENGTH) {
    throw new Error(`--admin-password-file ${file}: the first line must hold ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters`);
  }
  return password;
}

export async function ensureAdminUser(users: Users, passwordFile: string): Promise<AdminAccount> {
  if (passwordFile) {
    await users.setPassword(ADMIN_USER, await readPasswordFile(passwordFile));
    return { username: ADMIN_USER, source: 'file', file: passwordFile };
  }
  if (await users.exists(ADMIN_USER)) return { username: ADMIN_USER, source: 'existing' };
  const password = randomBytes(18).toString('base64url');
  await users.setPassword(ADMIN_USER, password);
  return { username: ADMIN_USER, source: 'generated', password };
}
