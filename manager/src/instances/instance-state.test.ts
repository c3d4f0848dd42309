import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Database } from '../db/database.js';
import { migrate } from '../db/migrations.js';
import { InstanceStore } from './instance-store.js';

let dir: string;
let db: Database;
let store: InstanceStore;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'storm-state-'));
  db = await Database.open(join(dir, 'db'));
  await migrate(db);
  store = new InstanceStore(db);
  await db.transaction((tx) =>
    store.insert(
      tx,
      {
        id: 'i-1',
        name: 'n1',
        uuid: 'u1',
        channel_id: null,
        appliance: 'a',
        version: '1',
        host_id: null,
        mac: '52:54:00:00:00:01',
        memory_mib: 64,
        vcpus: 1,
        params: '{}',
        token_hash: null,
        guest_spec: '{}',
      },
      [],
    ),
  );
});
afterAll(async () => {
  await db.close();
  await rm(dir, { recursive: true, force: true });
});

const changes = async () => (await db.get<{ n: number }>('SELECT total_changes() AS n'))!.n;

describe('instance state', () => {
  it('is written when it changes, and a report that repeats it (every heartbeat) writes nothing', async () => {
    expect(await store.setState('i-1', 'running')).toBe(true);
    const stamp = (await store.get('i-1'))!.updated_at;
    const before = await changes();
    await new Promise((r) => setTimeout(r, 5));
    expect(await store.setState('i-1', 'running')).toBe(false);
    expect(await changes()).toBe(before);
    expect((await store.get('i-1'))!.updated_at).toBe(stamp);
    // The same state with a new error is a change.
    expect(await store.setState('i-1', 'running', { error: 'slow disk' })).toBe(false);
    expect(await changes()).toBe(before + 1);
    expect((await store.get('i-1'))!.last_error).toBe('slow disk');
  });

  it('writes many states in one commit, each only over the state it was compared with (an action that changed the row since keeps its own)', async () => {
    await store.setState('i-1', 'running');
    // Compared while running; an action stopped it before the write: the stale change is not applied.
    await store.setState('i-1', 'stopped');
    expect(await store.setStates([{ id: 'i-1', from: 'running', state: 'paused' }])).toEqual(new Set());
    expect((await store.get('i-1'))!.state).toBe('stopped');
    // Compared in the state it still has: written, and said so.
    expect(await store.setStates([{ id: 'i-1', from: 'stopped', state: 'crashed' }])).toEqual(new Set(['i-1']));
    expect((await store.get('i-1'))!.state).toBe('crashed');
    expect(await store.setStates([])).toEqual(new Set());
  });
});
