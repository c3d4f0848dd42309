import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Database } from '../db/database.js';
import { migrate } from '../db/migrations.js';
import { Sessions } from './sessions.js';
import { Users } from './users.js';

let dir: string;
let db: Database;
let now: Date;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'storm-sessions-'));
  db = await Database.open(join(dir, 'db'));
  await migrate(db);
  await new Users(db).setPassword('admin', 'password1');
  now = new Date('2030-01-01T00:00:00Z');
});
afterEach(async () => {
  await db.close();
  await rm(dir, { recursive: true, force: true });
});

const later = (ms: number) => (now = new Date(now.getTime() + ms));

describe('Sessions', () => {
  it('stores only a hash of the id and finds the session by the id', async () => {
    const sessions = new Sessions(db, { now: () => now });
    const { id, session } = await sessions.create('admin');
    expect(id).toMatch(/^[\w-]{43}$/);
    expect(session.csrfToken).toMatch(/^[\w-]{43}$/);
    const rows = await db.all<{ id_hash: string }>('SELECT id_hash FROM sessions');
    expect(rows).toHaveLength(1);
    expect(rows[0]!.id_hash).not.toContain(id);
    expect(await sessions.find(id)).toEqual(session);
    expect(await sessions.find(`${id.slice(0, -1)}x`)).toBeUndefined();
    expect(await sessions.find('short')).toBeUndefined();
  });

  it('ends a session at its lifetime and after idling, and on remove', async () => {
    const sessions = new Sessions(db, { now: () => now, lifetimeMs: 10 * 60_000, idleMs: 4 * 60_000 });
    const a = await sessions.create('admin');
    for (let i = 0; i < 3; i++) {
      later(3 * 60_000);
      expect(await sessions.find(a.id)).toBeDefined();
    }
    later(2 * 60_000);
    expect(await sessions.find(a.id)).toBeUndefined();
    const b = await sessions.create('admin');
    later(5 * 60_000);
    expect(await sessions.find(b.id)).toBeUndefined();
    const c = await sessions.create('admin');
    await sessions.remove(c.id);
    expect(await sessions.find(c.id)).toBeUndefined();
    expect(await db.all('SELECT * FROM sessions')).toHaveLength(0);
  });
});
