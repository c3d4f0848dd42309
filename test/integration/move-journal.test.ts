/**
 * A cold move between two hosts through the operation journal, with real parts: a storm-manager
 * process, two stormd processes (host-a, host-b; each its own data folder and its own libvirt
 * test:///default, so each has domains of its own), the fixture channel's hello-web. A move of a
 * stopped instance records its steps done in order, and leaves the instance's writable layers on
 * the target byte for byte (sha256) and nothing on the source. Then the manager is killed with -9
 * (STORM_FAULT=crash-after:move:<step>) after each step of a move and started again: after its
 * reconcile, the journal has the move closed, exactly one host has the instance's domain and folder
 * and it is the host the record names, and the other has neither. A running instance is refused
 * without --allow-restart; with it, a crash after the stop starts it again where it was.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Database } from '../../manager/src/db/database.js';
import { HostClient } from '../../manager/src/hosts/host-client.js';
import { publishChannel, type PublishedChannel } from '../helpers/channel-fixture.js';
import { type ManagerProcess, startManager } from '../helpers/manager-process.js';
import { pollUntil } from '../helpers/poll.js';
import { stopAllProcesses } from '../helpers/process.js';
import { stormCli } from '../helpers/storm-cli.js';
import { freePort, startStormd, type StormdProcess } from '../helpers/stormd-process.js';

let work: string;
let data: string;
let channel: PublishedChannel;
let manager: ManagerProcess;
let managerArgs: string[];
const hosts: Record<'host-a' | 'host-b', StormdProcess> = {} as Record<'host-a' | 'host-b', StormdProcess>;

interface Instance {
  id: string;
  name: string;
  state: string;
  ip: string | null;
  host: { name: string } | null;
}

/** The steps of a cold move of a stopped instance, in order. */
const MOVE = ['host.stage', 'move.copy', 'host.define', 'move.switch-host', 'move.remove-source'];

const withDb = async <T>(fn: (db: Database) => Promise<T>): Promise<T> => {
  const db = await Database.open(join(data, 'storm.db'));
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
};

const lastMove = (name: string) =>
  withDb(async (db) => {
    const op = await db.get<{ id: string; state: string }>(
      "SELECT id, state FROM operations WHERE kind = 'move' AND json_extract(subject, '$.name') = ? ORDER BY started_at DESC LIMIT 1",
      [name],
    );
    if (!op) return undefined;
    const steps = await db.all<{ name: string; state: string }>(
      'SELECT name, state FROM operation_steps WHERE operation_id = ? ORDER BY seq',
      [op.id],
    );
    return { state: op.state, steps };
  });

/** What the host holds of the instance: its folder on disk, and its domain as the host's own libvirt lists it. */
async function onHost(name: 'host-a' | 'host-b', id: string): Promise<{ folder: boolean; domain: string }> {
  const folders = (await readdir(join(hosts[name].data, 'instances')).catch(() => [] as string[])).filter((f) => !f.startsWith('.'));
  const statuses = await hostInstances(name);
  return { folder: folders.includes(id), domain: statuses.find((s) => s.id === id)?.state ?? 'absent' };
}

/** The host's own answer (`GET /v1/instances` over mutual TLS with the manager's client certificate), as reconcile reads it. */
async function hostInstances(name: 'host-a' | 'host-b'): Promise<{ id: string; state: string }[]> {
  const pki = join(data, 'pki');
  const [ca, cert, key] = await Promise.all(
    ['ca.pem', 'manager-client.pem', 'manager-client.key'].map((f) => readFile(join(pki, f), 'utf8')),
  );
  const client = new HostClient(hosts[name].url, { ca, cert, key, servername: '127.0.0.1' }, name);
  return client.instances();
}

/** Every file of the instance's writable state on a host, with its sha256. */
async function writableFiles(name: 'host-a' | 'host-b', id: string): Promise<Record<string, string>> {
  const dir = join(hosts[name].data, 'instances', id, 'writable');
  const out: Record<string, string> = {};
  for (const f of (await readdir(dir).catch(() => [] as string[])).sort())
    out[f] = createHash('sha256')
      .update(await readFile(join(dir, f)))
      .digest('hex');
  return out;
}

const instance = (name: string) => manager.api.get<Instance>(`/instances/${name}`);

async function ready(): Promise<void> {
  const since = new Date().toISOString();
  await pollUntil(
    'a heartbeat from both hosts since the manager started',
    async () => {
      const { hosts: list } = await manager.api.get<{ hosts: { name: string; status: string; lastHeartbeat: string | null }[] }>('/hosts');
      return list.filter((h) => h.status === 'ready' && (h.lastHeartbeat ?? '') >= since).length === 2 ? true : undefined;
    },
    { timeoutMs: 60_000 },
  );
}

async function restart(env: NodeJS.ProcessEnv = {}): Promise<void> {
  if (manager.proc.child.exitCode === null && manager.proc.child.signalCode === null) await manager.proc.stop('SIGTERM');
  manager = await startManager(data, managerArgs, env);
  await ready();
}

/** Exactly one host holds the instance (domain and folder), the one its record names; the other holds nothing of it. */
async function exactlyOnce(name: string): Promise<'host-a' | 'host-b'> {
  const row = await instance(name);
  const where = row.host!.name as 'host-a' | 'host-b';
  const other = where === 'host-a' ? 'host-b' : 'host-a';
  expect(await onHost(where, row.id)).toEqual({ folder: true, domain: 'shutoff' });
  expect(await onHost(other, row.id)).toEqual({ folder: false, domain: 'absent' });
  return where;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'storm-move-journal-'));
  data = join(work, 'manager');
  channel = await publishChannel();
  const port = await freePort();
  managerArgs = ['--listen', `127.0.0.1:${port}`, '--channel-allow', '127.0.0.0/8', '--heartbeat', '1', '--reconcile', '0'];
  managerArgs.push('--network', '10.78.0.0/24');
  manager = await startManager(data, managerArgs);
  await manager.api.post('/channels', { url: channel.feedUrl, publicKey: channel.publicKey });
  hosts['host-a'] = await startStormd(manager, { name: 'host-a', dir: work, hypervisor: 'test:///default' });
  hosts['host-b'] = await startStormd(manager, { name: 'host-b', dir: work, hypervisor: 'test:///default' });
}, 180_000);

afterAll(async () => {
  await stopAllProcesses();
  await channel?.close();
  await rm(work, { recursive: true, force: true });
});

describe('a cold move of a stopped instance', () => {
  it('records each step done in order; the target has the writable layers byte for byte, the source nothing', async () => {
    const web = await manager.api.post<Instance>('/instances', { appliance: 'hello-web', name: 'web1', host: 'host-a' });
    expect(web.host?.name).toBe('host-a');
    await manager.api.post('/instances/web1/actions', { action: 'stop' });
    const before = await writableFiles('host-a', web.id);
    expect(Object.keys(before)).toEqual(['next-id', 'w0.qcow2']);

    const cli = await stormCli(manager.url, data).run(['move', 'web1', '--to', 'host-b']);
    expect(cli.code, cli.output).toBe(0);
    expect(cli.output).toMatch(/web1: moved from host-a to host-b \(.* copied\); stopped/);
    expect(await lastMove('web1')).toEqual({ state: 'done', steps: MOVE.map((name) => ({ name, state: 'done' })) });
    const moved = await instance('web1');
    expect(moved).toMatchObject({ host: { name: 'host-b' }, state: 'stopped', ip: web.ip });
    expect(await writableFiles('host-b', web.id)).toEqual(before);
    expect(await exactlyOnce('web1')).toBe('host-b');
    // It starts on its new host.
    await manager.api.post('/instances/web1/actions', { action: 'start' });
    expect((await onHost('host-b', web.id)).domain).toBe('running');
  }, 120_000);

  it('a running instance is refused without --allow-restart, with what to do', async () => {
    await expect(manager.api.post('/instances/web1/move', { to: 'host-a' })).rejects.toMatchObject({
      status: 409,
      code: 'MGR_ERR_INSTANCE_RUNNING',
      message: expect.stringMatching(/stop it first \(storm stop web1\), or pass --allow-restart/),
    });
    expect(await lastMove('web1')).toMatchObject({ state: 'done' }); // no new operation was opened
  });

  it('with --allow-restart it is stopped, moved and started on the target', async () => {
    const r = await manager.api.post<{ instance: Instance; restarted: boolean }>('/instances/web1/move', {
      to: 'host-a',
      allowRestart: true,
    });
    expect(r).toMatchObject({ restarted: true, instance: { host: { name: 'host-a' }, state: 'running' } });
    expect(await lastMove('web1')).toEqual({
      state: 'done',
      steps: ['host.stop-for-change', ...MOVE, 'host.start'].map((name) => ({ name, state: 'done' })),
    });
    expect((await onHost('host-a', r.instance.id)).domain).toBe('running');
    expect(await onHost('host-b', r.instance.id)).toEqual({ folder: false, domain: 'absent' });
    await manager.api.post('/instances/web1/actions', { action: 'stop' });
  }, 120_000);
});

describe('what a move refuses', () => {
  it('an instance with an attached data volume, saying to detach it (volumes do not move yet); detached, it may move', async () => {
    const from = (await instance('web1')).host!.name;
    await manager.api.post('/volumes', { name: 'web1-extra', sizeMiB: 16, host: from });
    await manager.api.post('/volumes/web1-extra/attach', { instance: 'web1' });
    await expect(manager.api.post('/instances/web1/move', { to: from === 'host-a' ? 'host-b' : 'host-a' })).rejects.toMatchObject({
      status: 409,
      code: 'MGR_ERR_MOVE_UNSUPPORTED',
      message: expect.stringMatching(/data volume web1-extra attached.*detach it first/),
    });
    await manager.api.post('/volumes/web1-extra/detach');
    await manager.api.delete('/volumes/web1-extra');
    expect((await instance('web1')).host?.name).toBe(from);
  }, 60_000);

  it('a host that does not exist, or the one it is on', async () => {
    await expect(manager.api.post('/instances/web1/move', { to: 'nowhere' })).rejects.toMatchObject({
      status: 404,
      code: 'MGR_ERR_NOT_FOUND',
    });
    const here = (await instance('web1')).host!.name;
    await expect(manager.api.post('/instances/web1/move', { to: here })).rejects.toMatchObject({ status: 409, code: 'MGR_ERR_CONFLICT' });
  });
});

describe('the manager killed with -9 after each step of a move, then started again', () => {
  for (const [n, step] of MOVE.entries()) {
    it(`after ${step}: one host holds the instance, the one its record names; the move is ${n >= 3 ? 'finished' : 'undone'}`, async () => {
      const from = (await instance('web1')).host!.name as 'host-a' | 'host-b';
      const to = from === 'host-a' ? 'host-b' : 'host-a';
      await restart({ STORM_FAULT: `crash-after:move:${step}` });
      await expect(manager.api.post('/instances/web1/move', { to })).rejects.toThrow();
      expect((await manager.proc.exited()).signal).toBe('SIGKILL');
      const open = await lastMove('web1');
      expect(open?.state).toBe('running');
      // The fault fires after the step acted, before the journal records it done (a database step: after its transaction).
      expect(open?.steps.at(-1)).toEqual({ name: step, state: step === 'move.switch-host' ? 'done' : 'started' });

      await restart();
      const report = await manager.api.post<{ operationsUndone: string[]; orphansRemoved: string[]; errors: string[] }>('/reconcile');
      expect(report).toMatchObject({ orphansRemoved: [], errors: [] });
      const closed = await lastMove('web1');
      expect(closed?.state).toBe(n >= 3 ? 'done' : 'undone');
      expect(await exactlyOnce('web1')).toBe(n >= 3 ? to : from);
      expect((await instance('web1')).state).toBe('stopped');
      // Nothing half-copied was left in either host's instance folders.
      for (const h of ['host-a', 'host-b'] as const)
        expect((await readdir(join(hosts[h].data, 'instances'))).filter((f) => f.startsWith('.'))).toEqual([]);
    }, 120_000);
  }

  it('after the stop of a running instance (--allow-restart): it runs again on its host, and nothing is on the other', async () => {
    await manager.api.post('/instances/web1/actions', { action: 'start' });
    const from = (await instance('web1')).host!.name as 'host-a' | 'host-b';
    const to = from === 'host-a' ? 'host-b' : 'host-a';
    await restart({ STORM_FAULT: 'crash-after:move:host.stop-for-change' });
    await expect(manager.api.post('/instances/web1/move', { to, allowRestart: true })).rejects.toThrow();
    expect((await manager.proc.exited()).signal).toBe('SIGKILL');
    await restart();
    await manager.api.post('/reconcile');
    expect(await lastMove('web1')).toMatchObject({ state: 'undone' });
    const row = await instance('web1');
    expect(row.host?.name).toBe(from);
    expect((await onHost(from, row.id)).domain).toBe('running');
    expect(await onHost(to, row.id)).toEqual({ folder: false, domain: 'absent' });
  }, 120_000);
});
