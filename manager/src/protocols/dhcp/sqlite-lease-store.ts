/**
 * Leases in the manager's sqlite database (table `dhcp_leases`, see schema.ts). Writes are
 * group-committed: every put/remove that arrives while a transaction is being written joins the
 * next one, written with a few multi-row statements, so a boot storm costs a few fsyncs and
 * statements rather than one of each per client; each caller's promise still resolves only once
 * its change is durable.
 *
 * @example
 * const store = new SqliteLeaseStore(db);
 * await store.put({ mac: '52:54:00:00:00:01', ip: '10.77.0.10', hostname: 'web1', clientId: null, expiresAt: Date.now() + 3600_000 });
 */
import type { Database, Queryable } from '../../db/database.js';
import type { Lease, LeaseStore } from './sources.js';

type Change = { readonly kind: 'put'; readonly lease: Lease } | { readonly kind: 'remove'; readonly mac: string };

interface Pending {
  readonly change: Change;
  resolve(): void;
  reject(err: unknown): void;
}

interface LeaseRow {
  mac: string;
  ip: string;
  hostname: string | null;
  client_id: string | null;
  expires_at: number;
}

/** Every address a dynamic lease holds (read in the transaction that gives an instance its address). */
export async function leasedAddresses(q: Queryable): Promise<string[]> {
  return (await q.all<{ ip: string }>('SELECT ip FROM dhcp_leases')).map((r) => r.ip);
}

export class SqliteLeaseStore implements LeaseStore {
  private pending: Pending[] = [];
  private writing = false;

  constructor(private readonly db: Database) {}

  async all(): Promise<Lease[]> {
    const rows = await this.db.all<LeaseRow>('SELECT mac, ip, hostname, client_id, expires_at FROM dhcp_leases ORDER BY mac');
    return rows.map((r) => ({ mac: r.mac, ip: r.ip, hostname: r.hostname, clientId: r.client_id, expiresAt: Number(r.expires_at) }));
  }

  put(lease: Lease): Promise<void> {
    return this.enqueue({ kind: 'put', lease });
  }

  remove(mac: string): Promise<void> {
    return this.enqueue({ kind: 'remove', mac });
  }

  private enqueue(change: Change): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ change, resolve, reject });
      if (!this.writing) void this.writeBatches();
    });
  }

  /** One transaction per batch until nothing is pending; the next batch collects while this one commits. */
  private async writeBatches(): Promise<void> {
    this.writing = true;
    try {
      while (this.pending.length) {
        const batch = this.pending;
        this.pending = [];
        try {
          await this.db.transaction((tx) =>
            applyAll(
              tx,
              batch.map((p) => p.change),
            ),
          );
          for (const p of batch) p.resolve();
        } catch (err) {
          for (const p of batch) p.reject(err);
        }
      }
    } finally {
      this.writing = false;
    }
  }
}

/** Rows per multi-row statement: 5 parameters each stays far below sqlite's variable limit. */
const ROWS_PER_STATEMENT = 100;

/** Applies a batch in order, runs of puts and runs of removes each as a few multi-row statements. */
async function applyAll(tx: Queryable, changes: readonly Change[]): Promise<void> {
  for (let i = 0; i < changes.length; ) {
    const kind = changes[i]!.kind;
    let j = i;
    while (j < changes.length && changes[j]!.kind === kind && j - i < ROWS_PER_STATEMENT) j++;
    const run = changes.slice(i, j);
    if (kind === 'remove') {
      const macs = run.map((c) => (c.kind === 'remove' ? c.mac : ''));
      await tx.run(`DELETE FROM dhcp_leases WHERE mac IN (${macs.map(() => '?').join(',')})`, macs);
    } else {
      const params = run.flatMap((c) =>
        c.kind === 'put' ? [c.lease.mac, c.lease.ip, c.lease.hostname, c.lease.clientId, c.lease.expiresAt] : [],
      );
      // OR REPLACE drops any row that clashes on mac (the old lease) or on ip (another MAC's stale lease).
      await tx.run(
        `INSERT OR REPLACE INTO dhcp_leases (mac, ip, hostname, client_id, expires_at) VALUES ${run.map(() => '(?, ?, ?, ?, ?)').join(', ')}`,
        params,
      );
    }
    i = j;
  }
}
