/**
 * Single-use, expiring enrolment tokens in sqlite. Only the secret's hash is stored; a token is
 * spent in the same transaction that records what it was spent on, so it can never enrol twice.
 *
 * @example
 * const { token, expiresAt } = await tokens.create(ca.fingerprint, 3600);
 * await db.transaction(async (tx) => { await tokens.spend(tx, token, ca.fingerprint, hostId); ... });
 */
import type { TokenView } from '../../protocol/index.js';
import type { Queryable, Database } from '../db/database.js';
import { MgrErr } from '../errors.js';
import { createEnrolmentToken, decodeEnrolmentToken, verifyTokenSecret } from '../../../trust/index.js';

export class EnrolmentTokens {
  /** Tokens made for the local host (`--local-host`), in memory: it joins from this process, at start. */
  private readonly localIds = new Set<string>();

  constructor(
    private readonly db: Database,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async create(
    caFingerprint: string,
    ttlSeconds: number,
    opts: { local?: boolean } = {},
  ): Promise<{ token: string; id: string; expiresAt: string }> {
    const { token, id, secretHash } = createEnrolmentToken(caFingerprint);
    if (opts.local) this.localIds.add(id);
    const expiresAt = new Date(this.now().getTime() + ttlSeconds * 1000).toISOString();
    await this.db.run('INSERT INTO enrolment_tokens (id, secret_hash, expires_at) VALUES (?, ?, ?)', [id, secretHash, expiresAt]);
    return { token, id, expiresAt };
  }

  /** Whether `token` was made for the local host, which may take this machine's name. */
  isLocal(token: string): boolean {
    try {
      return this.localIds.has(decodeEnrolmentToken(token).id);
    } catch {
      return false;
    }
  }

  async list(): Promise<TokenView[]> {
    const rows = await this.db.all<{
      id: string;
      created_at: string;
      expires_at: string;
      used_at: string | null;
      used_by_host: string | null;
    }>('SELECT id, created_at, expires_at, used_at, used_by_host FROM enrolment_tokens ORDER BY created_at DESC');
    return rows.map((r) => ({ id: r.id, createdAt: r.created_at, expiresAt: r.expires_at, usedAt: r.used_at, usedByHost: r.used_by_host }));
  }

  /**
   * Checks and spends a token inside the caller's transaction; 403 when malformed, for another CA,
   * unknown, wrong secret, expired or used. The reason is precise, the secret never echoed.
   */
  async spend(tx: Queryable, token: string, caFingerprint: string, hostId: string): Promise<string> {
    let parts;
    try {
      parts = decodeEnrolmentToken(token);
    } catch {
      throw MgrErr.MGR_ERR_FORBIDDEN('malformed enrolment token');
    }
    if (parts.caFingerprint !== caFingerprint) throw MgrErr.MGR_ERR_FORBIDDEN('the enrolment token was made for another CA');
    const row = await tx.get<{ secret_hash: string; expires_at: string; used_at: string | null }>(
      'SELECT secret_hash, expires_at, used_at FROM enrolment_tokens WHERE id = ?',
      [parts.id],
    );
    if (!row || !verifyTokenSecret(parts.secret, row.secret_hash)) throw MgrErr.MGR_ERR_FORBIDDEN(`unknown enrolment token ${parts.id}`);
    if (row.used_at) throw MgrErr.MGR_ERR_FORBIDDEN(`enrolment token ${parts.id} was already used`);
    if (new Date(row.expires_at).getTime() <= this.now().getTime())
      throw MgrErr.MGR_ERR_FORBIDDEN(`enrolment token ${parts.id} expired at ${row.expires_at}`);
    const spent = await tx.run('UPDATE enrolment_tokens SET used_at = ?, used_by_host = ? WHERE id = ? AND used_at IS NULL', [
      this.now().toISOString(),
      hostId,
      parts.id,
    ]);
    if (spent.changes !== 1) throw MgrErr.MGR_ERR_FORBIDDEN(`enrolment token ${parts.id} was already used`);
    return parts.id;
  }
}
