/**
 * When `storm move` of a running instance goes live, and what a live move that fails leaves, with
 * real parts: a storm-manager process and two stormd (libvirt test:///default each, so each has its
 * own domains), host-b started with `--migration-uri` (a libvirtd no one listens at: libvirt's test
 * driver cannot migrate anyway), host-a without. The hosts' views say which takes live moves. A
 * running instance moved to host-a is refused (409) saying host-a takes no live moves and what to
 * do. One moved to host-b goes live: staged, host-b readied (`move.prepare-incoming`), the migration
 * fails on the source, and the move is undone: host-b holds nothing of it, it runs on host-a as it
 * did, its last error says why. With a frozen writable layer (a checkpoint) it is refused saying so;
 * `--allow-restart` then moves it cold. (The live move that gets through: test/e2e/live-move.test.ts.)
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Database } from '../../manager/src/db/database.js';
import { publishChannel, type PublishedChannel } from '../helpers/channel-fixture.js';
import { type ManagerProcess, startManager } from '../helpers/manager-process.js';
import { stopAllProcesses } from '../helpers/process.js';
import { stormCli } from '../helpers/storm-cli.js';
import { freePort, startStormd, type StormdProcess } from '../helpers/stormd-process.js';

let work: string;
let data: string;
let channel: PublishedChannel;
let manager: ManagerProcess;
const hosts: Record<'host-a' | 'host-b', StormdProcess> = {} as Record<'host-a' | 'host-b', StormdProcess>;
const MIGRATION_URI = 'qemu+unix:///system?socket=/nonexistent/storm-test/libvirt-sock';

interface Instance {
  id: string;
  name: string;
  state: string;
  lastError: string | null;
  host: { name: string } | null;
}

const instance = (name: string) => manager.api.get<Instance>(`/instances/${name}`);

/** The instance's last operation of `kind`: its state and its steps' states, in order. */
const lastOperation = async (name: string, kind: string) => {
  const db = await Database.open(join(data, 'storm.db'));
  try {
    const op = await db.get<{ id: string; state: string }>(
      "SELECT id, state FROM operations WHERE kind = ? AND json_extract(subject, '$.name') = ? ORDER BY started_at DESC LIMIT 1",
      [kind, name],
    );
    if (!op) return undefined;
    const steps = await db.all<{ name: string; state: string }>(
      'SELECT name, state FROM operation_steps WHERE operation_id = ? ORDER BY seq',
      [op.id],
    );
    return { state: op.state, steps };
  } finally {
    await db.close();
  }
};

const folders = async (name: 'host-a' | 'host-b') =>
  (await readdir(join(hosts[name].data, 'instances')).catch(() => [] as string[])).filter((f) => !f.startsWith('.'));

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'storm-live-move-journal-'));
  data = join(work, 'manager');
  channel = await publishChannel();
  const args = ['--listen', `127.0.0.1:${await freePort()}`, '--channel-allow', '127.0.0.0/8', '--heartbeat', '1', '--reconcile', '0'];
  manager = await startManager(data, [...args, '--network', '10.77.0.0/24']);
  await manager.api.post('/channels', { url: channel.feedUrl, publicKey: channel.publicKey });
  hosts['host-a'] = await startStormd(manager, { name: 'host-a', dir: work, hypervisor: 'test:///default' });
  hosts['host-b'] = await startStormd(manager, {
    name: 'host-b',
    dir: work,
    hypervisor: 'test:///default',
    args: ['--migration-uri', MIGRATION_URI],
  });
}, 180_000);

afterAll(async () => {
  await stopAllProcesses();
  await channel?.close();
  await rm(work, { recursive: true, force: true });
});

describe('which hosts take live moves', () => {
  it('the host with --migration-uri says so in its view and in storm host show; the other says it takes none', async () => {
    expect(await manager.api.get('/hosts/host-b')).toMatchObject({ migration: { uri: MIGRATION_URI, memoryUri: null, disksUri: null } });
    expect(await manager.api.get('/hosts/host-a')).toMatchObject({ migration: null });
    const cli = stormCli(manager.url, data);
    expect((await cli.run(['host', 'show', 'host-b'])).output).toMatch(/live moves\s+taken at qemu\+unix:\/\/\/system/);
    expect((await cli.run(['host', 'show', 'host-a'])).output).toMatch(/live moves\s+not taken \(stormd --migration-uri unset\)/);
  });
});

describe('a running instance', () => {
  it('is refused towards a host that takes no live moves, saying so and what to do', async () => {
    await manager.api.post<Instance>('/instances', { appliance: 'hello-web', name: 'run-b', host: 'host-b' });
    await expect(manager.api.post('/instances/run-b/move', { to: 'host-a' })).rejects.toMatchObject({
      status: 409,
      code: 'MGR_ERR_INSTANCE_RUNNING',
      message: expect.stringMatching(
        /cannot move live: host-a takes no live moves \(its stormd runs without --migration-uri\); stop it first \(storm stop run-b\), or pass --allow-restart/,
      ),
    });
    expect(await lastOperation('run-b', 'live-move')).toBeUndefined();
    expect(await lastOperation('run-b', 'move')).toBeUndefined();
  });

  it('moves live towards a host that takes them; a migration that fails is undone: the target holds nothing, the guest runs on', async () => {
    const web = await manager.api.post<Instance>('/instances', { appliance: 'hello-web', name: 'run-a', host: 'host-a' });
    expect(web).toMatchObject({ state: 'running', host: { name: 'host-a' } });
    await expect(manager.api.post('/instances/run-a/move', { to: 'host-b' })).rejects.toMatchObject({
      status: expect.any(Number),
      message: expect.stringMatching(/live-move/),
    });
    expect(await lastOperation('run-a', 'live-move')).toEqual({
      state: 'undone',
      steps: ['host.stage', 'move.prepare-incoming', 'move.migrate'].map((name) => ({ name, state: 'undone' })),
    });
    expect(await folders('host-b')).not.toContain(web.id);
    expect(await folders('host-a')).toContain(web.id);
    const after = await instance('run-a');
    expect(after).toMatchObject({ state: 'running', host: { name: 'host-a' } });
    expect(after.lastError).toMatch(/^move: /);
  }, 120_000);

  it('with a frozen writable layer is refused live; --allow-restart moves it cold', async () => {
    await manager.api.post('/instances/run-a/actions', { action: 'checkpoint' });
    await expect(manager.api.post('/instances/run-a/move', { to: 'host-b' })).rejects.toMatchObject({
      status: 409,
      code: 'MGR_ERR_INSTANCE_RUNNING',
      message: expect.stringMatching(/cannot move live: it has 1 frozen writable layer, which a live move does not carry/),
    });
    const r = await manager.api.post<{ instance: Instance; restarted: boolean; live: boolean; downtimeMs: number | null }>(
      '/instances/run-a/move',
      { to: 'host-b', allowRestart: true },
    );
    expect(r).toMatchObject({ restarted: true, live: false, downtimeMs: null, instance: { host: { name: 'host-b' }, state: 'running' } });
    expect(await folders('host-a')).not.toContain(r.instance.id);
  }, 120_000);
});
