/** Revocations and the CRL number in sqlite: the `RevocationRecord` the CA builds its CRL from. */
import type { Database } from '../db/database.js';
import type { RevocationRecord } from '../../../trust/index.js';
import type { RevokedCertificate } from '../../../trust/crl.js';
import { normalizeSerial } from '../../../trust/index.js';

export class SqliteRevocationStore implements RevocationRecord {
  constructor(private readonly db: Database) {}

  async list(): Promise<RevokedCertificate[]> {
    const rows = await this.db.all<{ serial: string; revoked_at: string }>(
      'SELECT serial, revoked_at FROM revocations ORDER BY revoked_at, serial',
    );
    return rows.map((r) => ({ serial: r.serial, revokedAt: new Date(r.revoked_at) }));
  }

  async revoke(serial: string, revokedAt: Date, reason = 'host removed'): Promise<void> {
    await this.db.run('INSERT INTO revocations (serial, revoked_at, reason) VALUES (?, ?, ?) ON CONFLICT(serial) DO NOTHING', [
      normalizeSerial(serial),
      revokedAt.toISOString(),
      reason,
    ]);
  }

  async isRevoked(serial: string): Promise<boolean> {
    return (await this.db.get('SELECT 1 FROM revocations WHERE serial = ?', [normalizeSerial(serial)])) !== undefined;
  }

  /** Strictly increasing across restarts (kept in `settings`). */
  async nextCrlNumber(): Promise<number> {
    return this.db.transaction(async (tx) => {
      const row = await tx.get<{ value: string }>("SELECT value FROM settings WHERE key = 'crl_number'");
      const next = (row ? Number(row.value) : 0) + 1;
      await tx.run("INSERT INTO settings (key, value) VALUES ('crl_number', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", [
        String(next),
      ]);
      return next;
    });
  }
}
