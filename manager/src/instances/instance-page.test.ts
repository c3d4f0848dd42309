import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Database } from '../db/database.js';
import { migrate } from '../db/migrations.js';
import { InstanceStore } from './instance-store.js';
import { DEFAULT_PAGE } from '../../protocol/index.js';
import { readPage } from './instance-page.js';
import { makeCursor, parseCursor } from './list-cursor.js';

let dir: string;
let db: Database;
let store: InstanceStore;

const add = (id: string, n: number) =>
  db.transaction((tx) =>
    store.insert(
      tx,
      {
        id,
        name: `n${n}`,
        uuid: `u${n}`,
        channel_id: null,
        appliance: 'a',
        version: '1',
        host_id: null,
        mac: `52:54:00:00:${(n >> 8).toString(16).padStart(2, '0')}:${(n & 255).toString(16).padStart(2, '0')}`,
        memory_mib: 64,
        vcpus: 1,
        params: '{}',
        token_hash: null,
        guest_spec: '{}',
      },
      [],
    ),
  );

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'storm-page-'));
  db = await Database.open(join(dir, 'db'));
  await migrate(db);
  store = new InstanceStore(db);
  for (let i = 0; i < 7; i++) await add(`i-${i}`, i);
  // Two rows made in the same millisecond: the id breaks the tie, so no page repeats or skips one.
  await db.run("UPDATE instances SET created_at = '2026-01-01T00:00:00.000Z' WHERE id IN ('i-3', 'i-4')");
});
afterAll(async () => {
  await db.close();
  await rm(dir, { recursive: true, force: true });
});

describe('instance pages', () => {
  it('walk the whole list in its order, each row once, by the cursor of the last row', async () => {
    const all = (await store.list()).map((r) => r.id);
    const seen: string[] = [];
    let after: { createdAt: string; id: string } | undefined;
    for (;;) {
      const page = await store.page(2, after);
      seen.push(...page.map((r) => r.id));
      const last = page.at(-1);
      if (page.length < 2 || !last) break;
      after = parseCursor(makeCursor(last.created_at, last.id));
    }
    expect(seen).toEqual(all);
    expect(seen).toHaveLength(7);
  });

  it('seek through the (created_at, id) index: no scan of every instance and no sort per page', async () => {
    const plan = await db.all<{ detail: string }>(
      'EXPLAIN QUERY PLAN SELECT * FROM instances WHERE (created_at, id) > (?, ?) ORDER BY created_at, id LIMIT ?',
      ['2026-01-01T00:00:00.000Z', 'i-3', 2],
    );
    expect(plan.map((p) => p.detail)).toEqual(['SEARCH instances USING INDEX instances_by_created ((created_at,id)>(?,?))']);
  });

  it('answer a page of DEFAULT_PAGE when no limit is asked, never the whole list, and the next page by its cursor', async () => {
    for (let i = 7; i < DEFAULT_PAGE + 7; i++) await add(`i-x${i}`, i);
    const first = await readPage(store, {});
    expect(first.rows).toHaveLength(DEFAULT_PAGE);
    expect(first.next).toBeDefined();
    const second = await readPage(store, { cursor: first.next! });
    expect(second.rows).toHaveLength(7);
    expect(second.next).toBeUndefined();
    expect([...first.rows, ...second.rows].map((r) => r.id)).toEqual((await store.list()).map((r) => r.id));
  });

  it('refuse a cursor the manager did not make', () => {
    expect(() => parseCursor('bm90IGpzb24')).toThrow(/not one this manager gave/);
    expect(() => parseCursor(Buffer.from('[1,2]').toString('base64url'))).toThrow(/not one this manager gave/);
  });
});
