/**
 * Launch and destroy through the operation journal, with real parts: a storm-manager process with an
 * appliance network, LDAP and a Kerberos realm on loopback, a stormd on libvirt test:///default,
 * MIT's kinit and kvno. A launch is one operation whose steps (the record, its address, its
 * principals, staging, the directory account, the instance layer, define, start, running) the
 * journal records done in that order, and a destroy one whose steps take it all away. A launch that
 * fails after its guest started (STORM_FAULT=fail-after:launch:host.start) is undone step by step
 * in the same process: no record, domain, instance folder, principal or service account is left, the
 * journal closes it `undone` and reconcile finds nothing to do. A destroy that fails after the host
 * removed the instance stays open, the record `destroying`, until the next manager's reconcile
 * finishes it from the journal.
 */
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Database } from '../../manager/src/db/database.js';
import { FIXTURE_CHANNEL_SRC, publishChannel, type PublishedChannel } from '../helpers/channel-fixture.js';
import { kerberosClient } from '../helpers/kerberos-clients.js';
import { type ManagerProcess, startManager } from '../helpers/manager-process.js';
import { pollUntil } from '../helpers/poll.js';
import { stopAllProcesses } from '../helpers/process.js';
import { stormCli } from '../helpers/storm-cli.js';
import { freePort, startStormd, type StormdProcess } from '../helpers/stormd-process.js';

let work: string;
let data: string;
let channel: PublishedChannel;
let manager: ManagerProcess;
let host: StormdProcess;
let managerArgs: string[];

interface Instance {
  id: string;
  name: string;
  state: string;
  ip: string | null;
}
interface Operation {
  kind: string;
  state: string;
  steps: { name: string; state: string }[];
}
type Events = { events: { type: string; data: { name?: string; step?: string; error?: string } }[] };

const LAUNCH = [
  'instance.reserve',
  'network.address',
  'kerberos.principals',
  'host.stage',
  'directory.account',
  'host.instance-layer',
  'host.define',
  'host.start',
  'instance.running',
];
const DESTROY = [
  'instance.destroying',
  'host.remove-instance',
  'network.remove-forwards',
  'network.release',
  'directory.remove-account',
  'kerberos.remove-principals',
  'instance.forget',
];

/** A manager on the same data and port (hosts take layer URLs only from the origin they joined). */
/** A new manager, once the host is ready by a heartbeat it received itself (`ready` from before is the last one's word). */
async function restart(env: NodeJS.ProcessEnv = {}): Promise<void> {
  expect((await manager.proc.stop('SIGTERM')).code).toBe(0);
  const since = new Date().toISOString();
  manager = await startManager(data, managerArgs, env);
  await pollUntil(
    `a heartbeat from ${host.name} since the restart`,
    async () => {
      const { hosts } = await manager.api.get<{ hosts: { name: string; status: string; lastHeartbeat: string | null }[] }>('/hosts');
      return hosts.some((h) => h.name === host.name && h.status === 'ready' && (h.lastHeartbeat ?? '') >= since) ? true : undefined;
    },
    { timeoutMs: 60_000 },
  );
}

const withDb = async <T>(fn: (db: Database) => Promise<T>): Promise<T> => {
  const db = await Database.open(join(data, 'storm.db'));
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
};

/** The journal's newest operation of `kind` on the instance named `name`, with its steps. */
const operation = (kind: string, name: string) =>
  withDb(async (db) => {
    const op = await db.get<{ id: string; kind: string; state: string }>(
      "SELECT id, kind, state FROM operations WHERE kind = ? AND json_extract(subject, '$.name') = ? ORDER BY started_at DESC LIMIT 1",
      [kind, name],
    );
    if (!op) return undefined;
    const steps = await db.all<{ name: string; state: string }>(
      'SELECT name, state FROM operation_steps WHERE operation_id = ? ORDER BY seq',
      [op.id],
    );
    return { kind: op.kind, state: op.state, steps } satisfies Operation;
  });

const serviceAccounts = () =>
  withDb(async (db) => (await db.all<{ name: string }>('SELECT name FROM directory_services ORDER BY name')).map((r) => r.name));
const instanceFolders = async () => (await readdir(join(host.data, 'instances')).catch(() => [])).filter((f) => !f.startsWith('.')).sort();
const instances = async () => (await manager.api.get<{ instances: Instance[] }>('/instances')).instances;

/** Whether the KDC knows the principal, asked with kvno under alice's ticket. */
async function principalExists(principal: string, cache: string): Promise<boolean> {
  const c = kerberosClient(join(data, 'kerberos', 'krb5.conf'), work, cache);
  expect((await c.kinit('alice', 'wonderland-2026')).code).toBe(0);
  const r = await c.kvno(principal);
  if (r.code === 0) return true;
  expect(r.output).toMatch(/not found in Kerberos database/);
  return false;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'storm-launch-journal-'));
  data = join(work, 'manager');
  // The fixture channel plus an appliance that declares an HTTP service principal.
  const src = join(work, 'channel-src');
  await cp(FIXTURE_CHANNEL_SRC, src, { recursive: true });
  const base = JSON.parse(await readFile(join(src, 'hello-web-1.0.0', 'manifest.json'), 'utf8')) as Record<string, unknown>;
  const layers = (base['layers'] as { kind: string; dir: string }[]).map((l) =>
    l.kind === 'appliance' ? { ...l, dir: '../hello-web-1.0.0/rootfs' } : l,
  );
  await mkdir(join(src, 'kdc-web-1.0.0'));
  await writeFile(
    join(src, 'kdc-web-1.0.0', 'manifest.json'),
    JSON.stringify({ ...base, name: 'kdc-web', title: 'Kerberized web', layers, principals: ['HTTP'] }),
  );
  channel = await publishChannel({ src });
  const [port, ldap, kdc] = [await freePort(), await freePort(), await freePort()];
  managerArgs = ['--listen', `127.0.0.1:${port}`, '--channel-allow', '127.0.0.0/8', '--heartbeat', '1', '--reconcile', '0'];
  managerArgs.push('--network', '10.77.0.0/24', '--ldap-listen', `127.0.0.1:${ldap}`, '--kdc-listen', `127.0.0.1:${kdc}`);
  manager = await startManager(data, managerArgs);
  await manager.api.post('/channels', { url: channel.feedUrl, publicKey: channel.publicKey });
  host = await startStormd(manager, { name: 'host-a', dir: work, hypervisor: 'test:///default' });
  const alice = await stormCli(manager.url, data).run(['user', 'add', 'alice', '--surname', 'Liddell'], { input: 'wonderland-2026\n' });
  expect(alice.code, alice.output).toBe(0);
}, 180_000);

afterAll(async () => {
  await stopAllProcesses();
  await channel?.close();
  await rm(work, { recursive: true, force: true });
});

describe('launch and destroy, each one operation in the journal', () => {
  it('a launch records each of its steps done, in order, and the instance has everything they made', async () => {
    const web1 = await manager.api.post<Instance>('/instances', { appliance: 'kdc-web', name: 'web1' });
    expect(web1).toMatchObject({ state: 'running', ip: '10.77.0.2' });
    expect(await operation('launch', 'web1')).toEqual({
      kind: 'launch',
      state: 'done',
      steps: LAUNCH.map((name) => ({ name, state: 'done' })),
    });
    const launchEvents = (await manager.api.get<Events>('/events/recent?type=instance.launch')).events.filter(
      (e) => e.data.name === 'web1',
    );
    expect(launchEvents.map((e) => e.data.step)).toEqual(['reserved', 'staged', 'layer', 'defined', 'started']);
    expect(await instanceFolders()).toEqual([web1.id]);
    expect(await serviceAccounts()).toEqual(['web1']);
    expect(await principalExists('HTTP/web1.storm.internal', 'web1-up')).toBe(true);
  });

  it('a destroy records each of its steps done and takes away what the launch made', async () => {
    await manager.api.delete('/instances/web1');
    expect(await operation('destroy', 'web1')).toEqual({
      kind: 'destroy',
      state: 'done',
      steps: DESTROY.map((name) => ({ name, state: 'done' })),
    });
    expect(await instances()).toEqual([]);
    expect(await instanceFolders()).toEqual([]);
    expect(await serviceAccounts()).toEqual([]);
    expect(await principalExists('host/web1.storm.internal', 'web1-gone')).toBe(false);
  });
});

describe('a step that fails', () => {
  it('during a launch, after the guest started: every step is undone in the same process and reconcile finds nothing', async () => {
    await restart({ STORM_FAULT: 'fail-after:launch:host.start' });
    await expect(manager.api.post('/instances', { appliance: 'kdc-web', name: 'web2' })).rejects.toMatchObject({
      status: 500,
      code: 'MGR_ERR_INTERNAL',
    });
    expect(await operation('launch', 'web2')).toEqual({
      kind: 'launch',
      state: 'undone',
      steps: LAUNCH.slice(0, -1).map((name) => ({ name, state: 'undone' })),
    });
    const failed = (await manager.api.get<Events>('/events/recent?type=instance.launch-failed')).events.filter(
      (e) => e.data.name === 'web2',
    );
    expect(failed.map((e) => e.data.error)).toEqual([expect.stringContaining('STORM_FAULT injected after launch:host.start')]);
    expect(await instances()).toEqual([]);
    expect(await instanceFolders()).toEqual([]);
    expect(await serviceAccounts()).toEqual([]);
    expect(await principalExists('host/web2.storm.internal', 'web2-host')).toBe(false);
    expect(await principalExists('HTTP/web2.storm.internal', 'web2-http')).toBe(false);
    // No domain was left on the host either: reconcile would remove it as an orphan and say so.
    expect(await manager.api.post('/reconcile')).toMatchObject({
      launchesUndone: [],
      operationsUndone: [],
      orphansRemoved: [],
      lost: [],
      errors: [],
    });
  }, 120_000);

  it('during a destroy: the operation stays open, and the next manager finishes it from the journal', async () => {
    await restart();
    const web3 = await manager.api.post<Instance>('/instances', { appliance: 'kdc-web', name: 'web3' });
    await restart({ STORM_FAULT: 'fail-after:destroy:host.remove-instance' });
    await expect(manager.api.delete('/instances/web3')).rejects.toMatchObject({ status: 500, code: 'MGR_ERR_INTERNAL' });
    expect(await instances()).toEqual([expect.objectContaining({ name: 'web3', state: 'destroying' })]);
    expect(await operation('destroy', 'web3')).toEqual({
      kind: 'destroy',
      state: 'running',
      steps: [
        { name: 'instance.destroying', state: 'done' },
        { name: 'host.remove-instance', state: 'started' },
      ],
    });

    await restart();
    // The reconcile at start may be the one that finishes it; a pass now makes sure one completed.
    expect(await manager.api.post('/reconcile')).toMatchObject({ orphansRemoved: [], errors: [] });
    const passes = (await manager.api.get<{ events: { data: { destroysFinished?: string[] } }[] }>('/events/recent?type=reconcile.done'))
      .events;
    expect([...new Set(passes.flatMap((e) => e.data.destroysFinished ?? []))]).toEqual(['web3']);
    expect((await operation('destroy', 'web3'))?.state).toBe('done');
    expect(await instances()).toEqual([]);
    expect(await instanceFolders()).toEqual([]);
    expect(await serviceAccounts()).toEqual([]);
    expect(await principalExists('host/web3.storm.internal', 'web3-gone')).toBe(false);
    expect(web3.ip).toBe('10.77.0.2'); // web1's address, free again after its destroy
  }, 180_000);
});
