import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Database } from '../../db/database.js';
import { DHCP_LEASES_SQL } from '../../db/migrations.js';
import { SqliteLeaseStore } from './sqlite-lease-store.js';

let dir: string;
let db: Database;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'storm-leases-'));
  db = await Database.open(join(dir, 'storm.db'));
  await db.exec(DHCP_LEASES_SQL);
});

afterEach(async () => {
  await db.close().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

const lease = (mac: string, ip: string) => ({ mac, ip, hostname: 'web1', clientId: '01aa', expiresAt: 1_700_000_000_000 });

describe('SqliteLeaseStore', () => {
  it('keeps leases across a reopen of the database', async () => {
    await new SqliteLeaseStore(db).put(lease('52:54:00:00:00:01', '10.77.0.10'));
    await db.close();
    db = await Database.open(join(dir, 'storm.db'));
    expect(await new SqliteLeaseStore(db).all()).toEqual([lease('52:54:00:00:00:01', '10.77.0.10')]);
  });

  it('moves an address to its new holder and replaces a MAC’s old address', async () => {
    const store = new SqliteLeaseStore(db);
    await store.put(lease('52:54:00:00:00:01', '10.77.0.10'));
    await store.put(lease('52:54:00:00:00:02', '10.77.0.10'));
    await store.put(lease('52:54:00:00:00:02', '10.77.0.11'));
    expect((await store.all()).map((l) => [l.mac, l.ip])).toEqual([['52:54:00:00:00:02', '10.77.0.11']]);
  });

  it('group-commits concurrent writes and resolves each once durable', async () => {
    const store = new SqliteLeaseStore(db);
    const macs = Array.from(
      { length: 200 },
      (_, i) => `52:54:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`,
    );
    await Promise.all(macs.map((mac, i) => store.put(lease(mac, `10.77.${i >> 8}.${i & 255}`))));
    await Promise.all(macs.slice(0, 50).map((mac) => store.remove(mac)));
    expect((await store.all()).length).toBe(150);
  });

  it('applies one batch in order: the last change of a MAC wins, an address moves', async () => {
    const store = new SqliteLeaseStore(db);
    await Promise.all([
      store.put(lease('52:54:00:00:00:01', '10.77.0.10')),
      store.put(lease('52:54:00:00:00:01', '10.77.0.20')),
      store.put(lease('52:54:00:00:00:02', '10.77.0.20')),
      store.remove('52:54:00:00:00:03'),
      store.put(lease('52:54:00:00:00:03', '10.77.0.30')),
      store.remove('52:54:00:00:00:03'),
    ]);
    expect((await store.all()).map((l) => [l.mac, l.ip])).toEqual([['52:54:00:00:00:02', '10.77.0.20']]);
  });

  it('rejects every waiter of a batch that fails', async () => {
    const store = new SqliteLeaseStore(db);
    await db.exec('DROP TABLE dhcp_leases');
    await expect(store.put(lease('52:54:00:00:00:01', '10.77.0.10'))).rejects.toThrow(/no such table/);
  });
});
