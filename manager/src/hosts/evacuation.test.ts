/**
 * Evacuation's order and report, on a real database, registry and placement; the mover is the
 * test's own (the move service is another module): it moves a record to the host placement picks,
 * as a cold move leaves it, and fails where the test says. The real moves are test/integration's.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCsr } from '../../../trust/csr.js';
import { generateKeyPair } from '../../../trust/keys.js';
import { Database } from '../db/database.js';
import { migrate } from '../db/migrations.js';
import { EventBus } from '../events/bus.js';
import { InstanceStore, type InstanceState } from '../instances/instance-store.js';
import { TrustService } from '../trust/trust-service.js';
import { Evacuation, type InstanceMover } from './evacuation.js';
import { HostFencing } from './host-fencing.js';
import { HostRegistry } from './host-registry.js';
import { Placement } from './placement.js';

let dir: string;
let db: Database;
let trust: TrustService;
let hosts: HostRegistry;
let store: InstanceStore;
let bus: EventBus;
let fencing: HostFencing;
const ids = new Map<string, string>();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'storm-evacuation-'));
  db = await Database.open(join(dir, 'storm.db'));
  await migrate(db);
  trust = await TrustService.open({ dir: join(dir, 'pki'), db, serverNames: ['manager.example'] });
  bus = new EventBus();
  hosts = new HostRegistry({ db, trust, bus, heartbeatIntervalMs: 1000, missedHeartbeats: 3 });
  store = new InstanceStore(db);
  fencing = new HostFencing({
    hosts,
    bus,
    instances: { byHost: (h) => store.byHost(h), setState: async (row, state, extra) => void (await store.setState(row.id, state, extra)) },
    held: async () => new Set(),
    survey: { checkpoints: async () => 0, volumes: async () => [], loose: async () => [] },
  });
  for (const name of ['src', 'big', 'small']) {
    const { token } = await trust.tokens.create(trust.fingerprint, 60);
    const key = await generateKeyPair();
    const answer = await hosts.join({ token, csr: createCsr(key.privateKeyPem, name), name, url: 'https://127.0.0.1:9443' });
    ids.set(name, answer.hostId);
    // The host being evacuated has the most room: spreading would pick it first, were it not drained.
    const free = { src: 64_000, big: 8000, small: 4000 }[name]!;
    await hosts.heartbeat(TrustService.serialOf(answer.certificate), {
      info: {
        hostId: answer.hostId,
        name,
        version: 'test',
        cpus: 4,
        memoryMiB: free,
        freeMemoryMiB: free,
        allocatedMemoryMiB: 0,
        hypervisor: { uri: 'test:///default', domainType: 'test' },
        layers: [],
        instances: 0,
      },
      instances: [],
    });
  }
}, 60_000);
afterAll(async () => {
  await db.close();
  await rm(dir, { recursive: true, force: true });
});

async function instance(name: string, state: InstanceState, host = 'src'): Promise<string> {
  const id = `i-${randomUUID().slice(0, 8)}`;
  await db.transaction((tx) =>
    store.insert(
      tx,
      {
        id,
        name,
        uuid: randomUUID(),
        channel_id: null,
        appliance: 'hello-web',
        version: '1.0.0',
        host_id: ids.get(host)!,
        mac: `52:54:00:${randomUUID().slice(0, 8).match(/../g)!.join(':')}`.slice(0, 17),
        memory_mib: 128,
        vcpus: 1,
        params: '{}',
        token_hash: null,
        guest_spec: '{}',
      },
      [],
    ),
  );
  await store.setState(id, state);
  return id;
}

/** Moves a record where placement says, as a finished move leaves it; `fails` names instances it refuses. */
function testMover(fails: ReadonlySet<string>): InstanceMover & { calls: string[] } {
  const placement = new Placement(hosts.store, store);
  const calls: string[] = [];
  return {
    calls,
    async move(name, to, opts) {
      calls.push(`${name} to=${to ?? 'placement'} allowRestart=${opts.allowRestart === true}`);
      if (fails.has(name)) throw new Error(`${name}: the target refused the writable layer`);
      const row = (await store.byName(name))!;
      const target = await placement.choose({ memoryMiB: row.memory_mib });
      await db.run('UPDATE instances SET host_id = ? WHERE id = ?', [target.id, row.id]);
    },
  };
}

describe('evacuating a host', () => {
  it('drains it first, moves stopped instances then running ones by name, one at a time, and reports each', async () => {
    await instance('web-b', 'running');
    await instance('web-a', 'running');
    await instance('db-z', 'stopped');
    await instance('half', 'launching');
    await instance('gone', 'lost');
    await instance('broken', 'running');
    await instance('elsewhere', 'running', 'big');
    const events: { type: string; data: Record<string, unknown> }[] = [];
    bus.subscribe((e) => events.push({ type: e.type, data: e.data }));
    const mover = testMover(new Set(['broken']));
    let drainedWhenMoving: boolean[] = [];
    const evacuation = new Evacuation({
      hosts,
      fencing,
      instances: store,
      busy: () => false,
      bus,
      mover: {
        async move(name, to, opts) {
          drainedWhenMoving.push((await hosts.get('src')).drained_at !== null);
          return mover.move(name, to, opts);
        },
      },
    });

    const report = await evacuation.evacuate('src', { allowRestart: true });

    expect(mover.calls).toEqual([
      'db-z to=placement allowRestart=true',
      'broken to=placement allowRestart=true',
      'web-a to=placement allowRestart=true',
      'web-b to=placement allowRestart=true',
    ]);
    expect(drainedWhenMoving).toEqual([true, true, true, true]);
    // Placement never sent one back to the drained host, though it has the most room; each move saw the one before (spread).
    expect(report.moved).toEqual([
      { name: 'db-z', to: 'small' },
      { name: 'web-a', to: 'big' },
      { name: 'web-b', to: 'small' },
    ]);
    expect(report.failed).toEqual([{ name: 'broken', error: 'broken: the target refused the writable layer' }]);
    expect(report.skipped).toEqual([
      { name: 'gone', reason: 'it is lost: the host has no domain for it, so there is nothing to move' },
      { name: 'half', reason: 'it is launching; evacuate again once it runs' },
    ]);
    expect(report.host).toMatchObject({ name: 'src', drained: true, status: 'ready' });
    expect(events.map((e) => e.type)).toEqual([
      'host.drained',
      'host.evacuation',
      'host.evacuation',
      'host.evacuation',
      'host.evacuation',
      'host.evacuation',
      'host.evacuated',
    ]);
    expect(events.at(-1)!.data).toMatchObject({ name: 'src', moved: report.moved, failed: report.failed });
    expect((await store.byHost(ids.get('src')!)).map((r) => r.name).sort()).toEqual(['broken', 'gone', 'half']);

    // Again: what is left, and the host stays drained.
    drainedWhenMoving = [];
    const again = await evacuation.evacuate('src');
    expect(again.moved).toEqual([]);
    expect(again.failed.map((f) => f.name)).toEqual(['broken']);
  });

  it('skips an instance another operation holds', async () => {
    await instance('busy-one', 'running', 'small');
    const mover = testMover(new Set());
    const evacuation = new Evacuation({ hosts, fencing, instances: store, busy: (id) => id === busyId, bus, mover });
    const busyId = (await store.byName('busy-one'))!.id;
    const report = await evacuation.evacuate('small');
    expect(report.skipped).toContainEqual({ name: 'busy-one', reason: 'another operation is working on it' });
    expect(mover.calls.some((c) => c.startsWith('busy-one'))).toBe(false);
  });

  it('still drains the host when no mover is wired, and says its instances stay', async () => {
    await instance('stuck', 'running', 'big');
    const evacuation = new Evacuation({ hosts, fencing, instances: store, busy: () => false, bus, mover: undefined });
    await expect(evacuation.evacuate('big')).rejects.toMatchObject({
      code: 'MGR_ERR_UNAVAILABLE',
      message: expect.stringMatching(/host big is drained, but this manager cannot move instances yet: its \d+ instance\(s\) stay/),
    });
    expect((await hosts.get('big')).drained_at).not.toBeNull();
  });
});
