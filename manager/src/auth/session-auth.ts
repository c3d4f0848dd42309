/**
 * The console's credentials, wired once from the database and config: users (with the admin
 * account settled for this start), sessions and the failed-login limiter.
 *
 * @example
 * const auth = await openSessionAuth(db, config);
 * app.addHook('onRequest', requireAuth(tokens, auth.sessions));
 */
import type { ManagerConfig } from '../config.js';
import type { Database } from '../db/database.js';
import { LoginLimiter } from './login-limiter.js';
import { Sessions } from './sessions.js';
import { type AdminAccount, ensureAdminUser, Users } from './users.js';

export interface SessionAuth {
  readonly users: Users;
  readonly sessions: Sessions;
  readonly limiter: LoginLimiter;
  readonly admin: AdminAccount;
}

export async function openSessionAuth(db: Database, config: Pick<ManagerConfig, 'adminPasswordFile'>): Promise<SessionAuth> {
  const users = new Users(db);
  const admin = await ensureAdminUser(users, config.adminPasswordFile);
  return { users, sessions: new Sessions(db), limiter: new LoginLimiter(), admin };
}

/** The line main.ts prints at start: the generated password only on the start that made it. */
export function adminNotice(admin: AdminAccount): string {
  switch (admin.source) {
    case 'generated':
      return `console login: ${admin.username} / ${admin.password} (generated now and shown only this once; --admin-password-file FILE sets another)`;
    case 'file':
      return `console login: ${admin.username} (password from ${admin.file})`;
    default:
      return `console login: ${admin.username} (password set earlier; --admin-password-file FILE resets it)`;
  }
}
