/**
 * Instances come back (issue 15), on qemu:///system with a libvirtd of the test's own: one running
 * and one stopped hello-web instance, shared by every case. stormd killed (SIGKILL) and started
 * again; every domain destroyed behind stormd's back; and a host restart as it leaves things (stormd
 * down, the domains off, one domain's definition gone too, stormd back): each time the running
 * instance runs again within one heartbeat (2 s, plus a margin for a loaded machine) by the
 * manager's desired state, with an `instance.restarted` event, and the stopped one stays stopped.
 * Periodic reconcile is off: the heartbeat alone brings them back. Last, the manager killed right
 * after a comeback's `host.start`: the next manager finishes the operation (its guest runs).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Database } from '../../manager/src/db/database.js';
import { makeVmDir, type VmDir } from '../harness/libvirtd.js';
import { type PrivateLibvirtd, startPrivateLibvirtd } from '../harness/private-libvirtd.js';
import { publishSampleChannelForTest, type PublishedChannel } from '../helpers/channel-fixture.js';
import { destroyAllInstances } from '../helpers/instances.js';
import { type ManagerProcess, startManager } from '../helpers/manager-process.js';
import { pollUntil } from '../helpers/poll.js';
import { stopAllProcesses } from '../helpers/process.js';
import { freePort, startStormd, type StormdProcess } from '../helpers/stormd-process.js';

const run = promisify(execFile);
const HEARTBEAT_MS = 2000;
/** Room for a loaded machine (2 cores, other suites): libvirt's start and the manager's answer. */
const MARGIN_MS = 8000;

let libvirtd: PrivateLibvirtd;
let dir: VmDir;
let channel: PublishedChannel;
let m: ManagerProcess;
let managerDir: string;
let managerArgs: string[];
let host: StormdProcess;
let up: { id: string; name: string };
let down: { id: string; name: string };

interface Instance {
  id: string;
  name: string;
  state: string;
  desired: string;
}
type Events = { events: { id: number; type: string; data: { name?: string; reason?: string } }[] };

const virsh = async (...args: string[]) => (await run('virsh', ['-c', libvirtd.uri, ...args])).stdout.trim();
const domainOf = (i: { id: string }) => `storm-${i.id}`;
const domainState = (i: { id: string }) => virsh('domstate', domainOf(i)).catch(() => 'absent');
const instance = (i: { id: string }) => m.api.get<Instance>(`/instances/${i.id}`);
const restartedEvents = async () => (await m.api.get<Events>('/events/recent?type=instance.restarted')).events;

beforeAll(async () => {
  libvirtd = await startPrivateLibvirtd();
  dir = await makeVmDir('storm-e2e-comeback-');
  channel = await publishSampleChannelForTest();
  managerDir = join(dir.path, 'manager');
  // A fixed port: hosts call the manager origin they joined.
  managerArgs = [
    '--listen',
    `127.0.0.1:${await freePort()}`,
    '--channel-allow',
    '127.0.0.0/8',
    '--heartbeat',
    String(HEARTBEAT_MS / 1000),
    '--reconcile',
    '0',
  ];
  m = await startManager(managerDir, managerArgs);
  host = await startStormd(m, { name: 'comeback-host', dir: dir.path, hypervisor: libvirtd.uri, wrap: libvirtd.enter });
  await m.api.post('/channels', { url: channel.feedUrl, publicKey: channel.publicKey });
  up = await m.api.post<Instance>('/instances', { appliance: 'hello-web', version: '1.0.0', name: 'up' });
  down = await m.api.post<Instance>('/instances', { appliance: 'hello-web', version: '1.0.0', name: 'down' });
  expect(await m.api.post<Instance>(`/instances/${down.id}/actions`, { action: 'stop' })).toMatchObject({
    state: 'stopped',
    desired: 'stopped',
  });
}, 300_000);
afterAll(async () => {
  // A case that failed may have left no manager (the fault killed it): one is needed to destroy the instances.
  if (
    m &&
    !(await m.api.get('/health').then(
      () => true,
      () => false,
    ))
  )
    m = await startManager(managerDir, managerArgs).catch(() => m);
  await destroyAllInstances(m?.api);
  await stopAllProcesses();
  await channel?.close();
  await dir?.remove();
  await libvirtd?.close();
}, 120_000);

/**
 * After `since` (ms): `up` runs again, in libvirt and in the manager, within one heartbeat and the
 * margin; `down` stays stopped for two more heartbeats. Returns how long `up` took.
 */
async function cameBack(since: number, events: number): Promise<number> {
  await pollUntil(
    'up to run again',
    async () => ((await domainState(up)) === 'running' && (await instance(up)).state === 'running' ? true : undefined),
    {
      timeoutMs: HEARTBEAT_MS + MARGIN_MS,
      everyMs: 100,
    },
  );
  const took = Date.now() - since;
  await new Promise((r) => setTimeout(r, 2 * HEARTBEAT_MS));
  expect(await domainState(down)).toBe('shut off');
  expect(await instance(down)).toMatchObject({ state: 'stopped', desired: 'stopped' });
  expect(await instance(up)).toMatchObject({ state: 'running', desired: 'running' });
  expect((await restartedEvents()).map((e) => e.data.name)).toEqual([...Array<string>(events).fill('up')]);
  return took;
}

describe('instances come back', () => {
  it('stormd killed (SIGKILL) and started again: the running instance runs, the stopped one stays stopped', async () => {
    // The stop's own heartbeats first: they must leave it stopped too.
    await new Promise((r) => setTimeout(r, 2 * HEARTBEAT_MS));
    expect(await domainState(down)).toBe('shut off');
    expect(await domainState(up)).toBe('running');
    await host.proc.stop('SIGKILL');
    // Long enough for the manager to call the host unreachable and its instances unknown.
    await pollUntil('up to be unknown', async () => ((await instance(up)).state === 'unknown' ? true : undefined), { timeoutMs: 30_000 });
    host = await host.restart();
    const took = await cameBack(Date.now(), 0);
    console.log(`stormd restart: up running in the manager ${took} ms after stormd listened again`);
  }, 120_000);

  it('every domain destroyed behind stormd: the running instance starts again, the stopped one stays stopped', async () => {
    for (const i of [up, down]) if ((await domainState(i)) === 'running') await virsh('destroy', domainOf(i));
    const since = Date.now();
    const took = await cameBack(since, 1);
    expect((await restartedEvents()).at(-1)?.data.reason).toMatch(/shut off/);
    console.log(`domains destroyed: up running again after ${took} ms`);
  }, 120_000);

  it('a host restart: stormd down, the domains off and one definition gone, stormd back: both come back as they were wanted', async () => {
    await host.proc.stop('SIGKILL');
    for (const i of [up, down]) if ((await domainState(i)) === 'running') await virsh('destroy', domainOf(i));
    // What a host whose libvirt lost the definition leaves: the instance's folder, no domain.
    await virsh('undefine', domainOf(up));
    host = await host.restart();
    const took = await cameBack(Date.now(), 2);
    expect((await restartedEvents()).at(-1)?.data.reason).toMatch(/defined again/);
    console.log(`host restart: up defined and running again ${took} ms after stormd listened again`);
  }, 120_000);

  it('the manager killed (SIGKILL) right after a comeback started the guest: the next one finishes the operation, nothing stays open', async () => {
    await m.proc.stop('SIGTERM');
    m = await startManager(managerDir, managerArgs, { STORM_FAULT: 'crash-after:comeback:host.start' });
    await pollUntil('a heartbeat to the new manager', async () => ((await instance(up)).state === 'running' ? true : undefined), {
      timeoutMs: 30_000,
    });
    await virsh('destroy', domainOf(up));
    expect(await m.proc.exited()).toMatchObject({ signal: 'SIGKILL' });
    expect(await domainState(up)).toMatch(/running|paused/);
    m = await startManager(managerDir, managerArgs);
    const ops = async () => {
      const db = await Database.open(join(managerDir, 'storm.db'));
      try {
        return await db.all<{ kind: string; state: string }>(
          "SELECT kind, state FROM operations WHERE kind = 'comeback' OR state IN ('running', 'undoing') ORDER BY rowid",
        );
      } finally {
        await db.close();
      }
    };
    await pollUntil(
      'the interrupted comeback to close',
      async () => ((await ops()).at(-1)?.state === 'done' && (await instance(up)).state === 'running' ? true : undefined),
      { timeoutMs: HEARTBEAT_MS + MARGIN_MS },
    );
    expect((await ops()).filter((o) => o.state !== 'done')).toEqual([]);
    expect(await domainState(up)).toBe('running');
    expect(await domainState(down)).toBe('shut off');
    expect(await instance(down)).toMatchObject({ state: 'stopped', desired: 'stopped' });
  }, 120_000);
});
