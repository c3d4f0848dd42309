/**
 * Hosts in sqlite: identity (name, URL, certificate serial), health, capacity, the layers each
 * holds, and what the administrator decided: drained (no placement), declared dead (fenced), the
 * fence command to run first.
 */
import type { HeartbeatRequest } from '../../../stormd/protocol.js';
import type { Database, Queryable } from '../db/database.js';
import { degradedReason } from './host-health.js';

/** What the store keeps of an issued certificate. */
export interface CertificateRef {
  readonly serial: string;
  readonly notAfter: Date;
}

export type HostStatus = 'new' | 'ready' | 'unreachable' | 'revoked';

export interface HostRow {
  readonly id: string;
  readonly name: string;
  readonly url: string;
  readonly cert_serial: string;
  /** Null for hosts that joined before expiry was recorded. */
  readonly cert_not_after: string | null;
  /** A renewed certificate the host has not presented yet. */
  readonly next_cert_serial: string | null;
  readonly next_cert_not_after: string | null;
  readonly status: HostStatus;
  readonly last_heartbeat: string | null;
  readonly last_error: string | null;
  readonly cpus: number | null;
  readonly memory_mib: number | null;
  readonly free_memory_mib: number | null;
  readonly allocated_memory_mib: number | null;
  readonly hypervisor_uri: string | null;
  readonly domain_type: string | null;
  /** Where a source's libvirtd reaches this host's for a live move (`stormd --migration-uri`); null: it takes none. */
  readonly migration_uri: string | null;
  readonly migration_memory_uri: string | null;
  readonly migration_disks_uri: string | null;
  /** The last heartbeat's checks (JSON `HostHealth`), null before any. */
  readonly health: string | null;
  /** Why a ready host is degraded (its failing checks), null when it is not. */
  readonly degraded: string | null;
  /** When it was drained (placement never picks it), null when it is not. */
  readonly drained_at: string | null;
  /** When the administrator declared it dead; `status` still says whether it is heard from. */
  readonly dead_at: string | null;
  /** The fence command (JSON argv) run before a declaration, null without one. */
  readonly fence_argv: string | null;
  readonly fence_timeout_s: number | null;
  readonly created_at: string;
}

export class HostStore {
  constructor(private readonly db: Database) {}

  async insert(tx: Queryable, row: { id: string; name: string; url: string; cert: CertificateRef }): Promise<void> {
    // A revoked host keeps its record (its instances point at it) but frees its name for a re-join.
    await tx.run("UPDATE hosts SET name = name || '#' || id WHERE name = ? AND status = 'revoked'", [row.name]);
    await tx.run('INSERT INTO hosts (id, name, url, cert_serial, cert_not_after) VALUES (?, ?, ?, ?, ?)', [
      row.id,
      row.name,
      row.url,
      row.cert.serial,
      row.cert.notAfter.toISOString(),
    ]);
  }

  /** Records a renewed certificate as next; returns the serial of an earlier next one it replaces (never used, so to revoke). */
  async setNextCertificate(id: string, cert: CertificateRef): Promise<string | null> {
    return this.db.transaction(async (tx) => {
      const before = await tx.get<{ next_cert_serial: string | null }>('SELECT next_cert_serial FROM hosts WHERE id = ?', [id]);
      await tx.run('UPDATE hosts SET next_cert_serial = ?, next_cert_not_after = ? WHERE id = ?', [
        cert.serial,
        cert.notAfter.toISOString(),
        id,
      ]);
      return before?.next_cert_serial ?? null;
    });
  }

  /** Makes the next certificate current; returns the replaced serial, or null when another call already did. */
  async promoteNextCertificate(id: string, serial: string): Promise<string | null> {
    return this.db.transaction(async (tx) => {
      const row = await tx.get<{ cert_serial: string }>('SELECT cert_serial FROM hosts WHERE id = ? AND next_cert_serial = ?', [
        id,
        serial,
      ]);
      if (!row) return null;
      await tx.run(
        'UPDATE hosts SET cert_serial = next_cert_serial, cert_not_after = next_cert_not_after, next_cert_serial = NULL, next_cert_not_after = NULL WHERE id = ?',
        [id],
      );
      return row.cert_serial;
    });
  }

  list(q: Queryable = this.db): Promise<HostRow[]> {
    return q.all<HostRow>('SELECT * FROM hosts ORDER BY created_at, id');
  }

  get(id: string): Promise<HostRow | undefined> {
    return this.db.get<HostRow>('SELECT * FROM hosts WHERE id = ?', [id]);
  }

  byName(name: string): Promise<HostRow | undefined> {
    return this.db.get<HostRow>('SELECT * FROM hosts WHERE name = ?', [name]);
  }

  /** The host whose current or next certificate has `serial`. */
  bySerial(serial: string): Promise<HostRow | undefined> {
    return this.db.get<HostRow>('SELECT * FROM hosts WHERE cert_serial = ? OR next_cert_serial = ?', [serial, serial]);
  }

  /** A heartbeat: ready (degraded when a check fails), and the figures and layers it carries (kept when it has none). */
  async recordHeartbeat(id: string, req: HeartbeatRequest): Promise<void> {
    const { info } = req;
    const seen = [req.health ? JSON.stringify(req.health) : null, degradedReason(req.health)];
    if (!info) {
      await this.db.run(
        `UPDATE hosts SET status = 'ready', last_heartbeat = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), last_error = NULL, health = ?, degraded = ?
         WHERE id = ? AND status != 'revoked'`,
        [...seen, id],
      );
      return;
    }
    await this.db.transaction(async (tx) => {
      // One statement for the heartbeat and the figures it carries: a heartbeat costs per host, in statements too.
      await tx.run(
        `UPDATE hosts SET status = 'ready', last_heartbeat = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), last_error = NULL, health = ?, degraded = ?,
           cpus = ?, memory_mib = ?, free_memory_mib = ?, allocated_memory_mib = ?, hypervisor_uri = ?, domain_type = ?,
           migration_uri = ?, migration_memory_uri = ?, migration_disks_uri = ?
         WHERE id = ? AND status != 'revoked'`,
        [
          ...seen,
          info.cpus,
          info.memoryMiB,
          info.freeMemoryMiB,
          info.allocatedMemoryMiB,
          info.hypervisor.uri,
          info.hypervisor.domainType,
          info.migration?.uri ?? null,
          info.migration?.memoryUri ?? null,
          info.migration?.disksUri ?? null,
          id,
        ],
      );
      // Only what changed: a heartbeat mostly repeats the layers the host had (a delete and an insert a layer was per heartbeat).
      const had = new Set(
        (await tx.all<{ sha256: string }>('SELECT sha256 FROM host_layers WHERE host_id = ?', [id])).map((r) => r.sha256),
      );
      const has = new Set(info.layers.map((l) => l.sha256));
      for (const sha of had) if (!has.has(sha)) await tx.run('DELETE FROM host_layers WHERE host_id = ? AND sha256 = ?', [id, sha]);
      for (const sha of has)
        if (!had.has(sha)) await tx.run('INSERT OR IGNORE INTO host_layers (host_id, sha256) VALUES (?, ?)', [id, sha]);
    });
  }

  async addLayer(id: string, sha256: string): Promise<void> {
    await this.db.run('INSERT OR IGNORE INTO host_layers (host_id, sha256) VALUES (?, ?)', [id, sha256]);
  }

  async layers(id: string): Promise<Set<string>> {
    return new Set((await this.db.all<{ sha256: string }>('SELECT sha256 FROM host_layers WHERE host_id = ?', [id])).map((r) => r.sha256));
  }

  /** Marks ready hosts silent since `before` unreachable; returns their ids. */
  async markSilent(before: Date, reason: string): Promise<string[]> {
    const rows = await this.db.all<{ id: string }>(
      "SELECT id FROM hosts WHERE status = 'ready' AND (last_heartbeat IS NULL OR last_heartbeat < ?)",
      [before.toISOString()],
    );
    for (const r of rows)
      await this.db.run("UPDATE hosts SET status = 'unreachable', last_error = ? WHERE id = ? AND status = 'ready'", [reason, r.id]);
    return rows.map((r) => r.id);
  }

  /** Drains (or undrains) a host; true when that changed anything. */
  async setDrained(id: string, drained: boolean): Promise<boolean> {
    const r = await this.db.run(
      drained
        ? "UPDATE hosts SET drained_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ? AND drained_at IS NULL"
        : 'UPDATE hosts SET drained_at = NULL WHERE id = ? AND drained_at IS NOT NULL',
      [id],
    );
    return r.changes > 0;
  }

  /** Declared dead: drained too, in the same write (a dead host must never take a placement). */
  async setDead(id: string): Promise<void> {
    await this.db.run(
      `UPDATE hosts SET dead_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), drained_at = COALESCE(drained_at, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
       WHERE id = ?`,
      [id],
    );
  }

  /** Undrain of a dead host: neither dead nor drained. */
  async clearDead(id: string): Promise<void> {
    await this.db.run('UPDATE hosts SET dead_at = NULL, drained_at = NULL WHERE id = ?', [id]);
  }

  async setFence(id: string, fence: { argv: readonly string[]; timeoutSeconds: number } | null): Promise<void> {
    await this.db.run('UPDATE hosts SET fence_argv = ?, fence_timeout_s = ? WHERE id = ?', [
      fence ? JSON.stringify(fence.argv) : null,
      fence?.timeoutSeconds ?? null,
      id,
    ]);
  }

  async setStatus(id: string, status: HostStatus, error: string | null = null): Promise<void> {
    await this.db.run('UPDATE hosts SET status = ?, last_error = ? WHERE id = ?', [status, error, id]);
  }
}
