/**
 * API tokens for the CLI and scripts. Only each token's sha256 is stored; the admin token itself
 * lives in `<data>/admin.token` (mode 0600), written once on first start.
 *
 * @example
 * const tokens = new ApiTokens(db);
 * const path = await ensureAdminToken(tokens, dataDir); // prints nothing; main.ts says where it is
 * await tokens.verify(bearer); // 'admin' or undefined
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Database } from '../db/database.js';

const sha256 = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

export class ApiTokens {
  constructor(private readonly db: Database) {}

  /** Registers `token` under `name` (replacing that name's previous token). */
  async put(name: string, token: string): Promise<void> {
    await this.db.run('INSERT INTO api_tokens (name, sha256) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET sha256 = excluded.sha256', [
      name,
      sha256(token),
    ]);
  }

  /** The token's name when it is known, else undefined; compares digests in constant time. */
  async verify(token: string): Promise<string | undefined> {
    if (token.length === 0 || token.length > 512) return undefined;
    const digest = Buffer.from(sha256(token), 'hex');
    const rows = await this.db.all<{ name: string; sha256: string }>('SELECT name, sha256 FROM api_tokens');
    let found: string | undefined;
    for (const row of rows) {
      if (timingSafeEqual(Buffer.from(row.sha256, 'hex'), digest)) found = row.name;
    }
    return found;
  }
}

export const ADMIN_TOKEN_FILE = 'admin.token';

/** Creates `<data>/admin.token` on first start (0600, atomically) and makes sure its hash is registered. */
export async function ensureAdminToken(tokens: ApiTokens, dataDir: string): Promise<{ path: string; created: boolean }> {
  const path = join(dataDir, ADMIN_TOKEN_FILE);
  let token = await readFile(path, 'utf8').then(
    (s) => s.trim(),
    () => undefined,
  );
  let created = false;
  if (!token) {
    token = randomBytes(32).toString('base64url');
    const tmp = `${path}.${process.pid}.tmp`;
    const fh = await open(tmp, 'wx', 0o600);
    try {
      await fh.writeFile(`${token}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path).catch(async (err: unknown) => {
      await unlink(tmp).catch(() => undefined);
      throw err;
    });
    created = true;
  }
  await tokens.put('admin', token);
  return { path, created };
}
