/**
 * A cold move between two real hosts (issue 16's first acceptance line): a manager with an appliance
 * network and its DNS on loopback, two stormd each on a libvirtd of its own (`harness/two-hosts.ts`),
 * real qemu under TCG, the sample channel's hello-web. One guest, booted on host-a, writes a file
 * from its serial shell; stopped, moved with `storm move --to host-b`, it is defined on host-b only
 * (`virsh list --all` on each libvirtd), the source's instance folder is gone, `dig` at the manager's
 * DNS answers the same address, and started on host-b it boots and the file is there. Then, the
 * guest stopped, the manager is killed with -9 after each step of a move
 * (STORM_FAULT=crash-after:move:<step>) and started again: after its reconcile the move is closed,
 * `virsh list --all` on both libvirtds agrees with the database (one domain, on the host the record
 * names), and neither host has an orphan file (an instance folder, a half-received `.incoming-…`).
 * Last, `storm host evacuate --allow-restart` of the host holding two running guests: both run on
 * the other host, the first is drained and empty, and launches that follow all land on the other.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Database } from '../../manager/src/db/database.js';
import { startTwoHosts, type TwoHosts } from '../harness/two-hosts.js';
import { publishSampleChannelForTest, type PublishedChannel } from '../helpers/channel-fixture.js';
import { GuestShells } from '../helpers/guest-shell.js';
import { destroyAllInstances, GUEST_FAILED } from '../helpers/instances.js';
import { stormCli } from '../helpers/storm-cli.js';
import { freePort } from '../helpers/stormd-process.js';

const run = promisify(execFile);
const SECRET = `moved-${randomBytes(6).toString('hex')}`;
const BOOT = 'STORM-INIT: root ready';
let two: TwoHosts;
let channel: PublishedChannel;
let shells: GuestShells;
let dnsPort: number;

interface Instance {
  id: string;
  name: string;
  state: string;
  ip: string | null;
  host: { name: string } | null;
}

beforeAll(async () => {
  channel = await publishSampleChannelForTest();
  dnsPort = await freePort();
  two = await startTwoHosts({
    prefix: 'storm-e2e-move-',
    managerArgs: [
      '--channel-allow',
      '127.0.0.0/8',
      '--heartbeat',
      '2',
      '--network',
      '10.79.0.0/24',
      '--dns-listen',
      `127.0.0.1:${dnsPort}`,
    ],
  });
  shells = new GuestShells(two.manager);
  await two.manager.api.post('/channels', { url: channel.feedUrl, publicKey: channel.publicKey });
}, 300_000);

afterAll(async () => {
  shells?.close();
  await destroyAllInstances(two?.manager.api);
  await two?.close();
  await channel?.close();
}, 120_000);

const consoleText = async (id: string) => (await two.manager.api.get<{ text: string }>(`/instances/${id}/console?bytes=1048576`)).text;

/** Waits until the guest's latest boot reached tiny-os's shell. */
async function booted(id: string, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = (await consoleText(id)).split(BOOT).slice(1).at(-1) ?? '';
    if (/STORM-OS: ready/.test(text)) return;
    if (GUEST_FAILED.test(text) || Date.now() > deadline) throw new Error(`the guest never got ready:\n${text.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

async function dig(name: string): Promise<string> {
  return (await run('dig', ['@127.0.0.1', '-p', String(dnsPort), '+short', '+time=2', '+tries=2', name, 'A'])).stdout.trim();
}

const folders = async (host: 'host-a' | 'host-b') =>
  (await readdir(join(two.dir.path, host, 'instances')).catch(() => [] as string[])).filter((f) => !f.startsWith('.'));

describe('a cold move between two hosts', () => {
  it('moves a stopped layered instance: defined on the target only, the source folder gone, the same address, the file kept', async () => {
    const web = await two.manager.api.post<Instance>('/instances', {
      appliance: 'hello-web',
      version: '1.0.0',
      name: 'mv1',
      host: 'host-a',
    });
    expect(web.host?.name).toBe('host-a');
    await booted(web.id);
    const w = await shells.run(web.name, `echo ${SECRET} > /etc/moved.txt && sync`);
    expect(w.status, w.out).toBe(0);
    shells.close();
    expect(await two.manager.api.post<Instance>(`/instances/${web.id}/actions`, { action: 'stop' })).toMatchObject({ state: 'stopped' });
    const address = await dig('mv1.storm.internal');
    expect(address).toBe(web.ip);

    const started = Date.now();
    const moved = await stormCli(two.manager.url, two.managerDir).run(['move', 'mv1', '--to', 'host-b']);
    console.log(`storm move: ${Date.now() - started} ms`);
    expect(moved.code, moved.output).toBe(0);
    expect(moved.output).toMatch(/mv1: moved from host-a to host-b/);

    const domain = `storm-${web.id}`;
    expect(await two.hosts['host-a'].virsh('list', '--all', '--name')).not.toContain(domain);
    expect(await two.hosts['host-b'].virsh('domstate', domain)).toBe('shut off');
    expect(await folders('host-a')).toEqual([]);
    expect(await folders('host-b')).toEqual([web.id]);
    expect(await two.manager.api.get<Instance>(`/instances/${web.id}`)).toMatchObject({
      host: { name: 'host-b' },
      ip: web.ip,
      state: 'stopped',
    });
    expect(await dig('mv1.storm.internal')).toBe(address);

    expect(await two.manager.api.post<Instance>(`/instances/${web.id}/actions`, { action: 'start' })).toMatchObject({ state: 'running' });
    expect(await two.hosts['host-b'].virsh('domstate', domain)).toBe('running');
    await booted(web.id);
    const r = await shells.run(web.name, 'cat /etc/moved.txt');
    expect(r.status, r.out).toBe(0);
    expect(r.out).toContain(SECRET);
  }, 600_000);
});

/** The steps of a cold move of a stopped instance, in order; from `move.switch-host` on it is finished, before it undone. */
const MOVE = ['host.stage', 'move.copy', 'host.define', 'move.switch-host', 'move.remove-source'];

async function lastMove(): Promise<{ state: string; steps: { name: string; state: string }[] } | undefined> {
  const db = await Database.open(join(two.managerDir, 'storm.db'));
  try {
    const op = await db.get<{ id: string; state: string }>(
      "SELECT id, state FROM operations WHERE kind = 'move' ORDER BY started_at DESC LIMIT 1",
    );
    if (!op) return undefined;
    return { state: op.state, steps: await db.all('SELECT name, state FROM operation_steps WHERE operation_id = ? ORDER BY seq', [op.id]) };
  } finally {
    await db.close();
  }
}

/** Every file under a host's instances folder, relative to it: an instance's folder and what is in it. */
async function filesUnder(host: 'host-a' | 'host-b'): Promise<string[]> {
  const root = join(two.dir.path, host, 'instances');
  return (await readdir(root, { recursive: true }).catch(() => [] as string[])).map(String).sort();
}

describe('the manager killed with -9 after each step of a move, then started again', () => {
  for (const [n, step] of MOVE.entries()) {
    it(`after ${step}: the move is ${n >= 3 ? 'finished' : 'undone'}, both libvirtds agree with the database, no orphan file`, async () => {
      let web = await two.manager.api.get<Instance>('/instances/mv1');
      if (web.state !== 'stopped') web = await two.manager.api.post<Instance>('/instances/mv1/actions', { action: 'stop' });
      const from = web.host!.name as 'host-a' | 'host-b';
      const to = from === 'host-a' ? 'host-b' : 'host-a';
      await two.restartManager({ STORM_FAULT: `crash-after:move:${step}` });
      await expect(two.manager.api.post('/instances/mv1/move', { to })).rejects.toThrow();
      expect((await two.manager.proc.exited()).signal).toBe('SIGKILL');
      expect((await lastMove())?.state).toBe('running');

      await two.restartManager();
      const report = await two.manager.api.post<{ orphansRemoved: string[]; errors: string[] }>('/reconcile');
      expect(report).toMatchObject({ orphansRemoved: [], errors: [] });
      expect((await lastMove())?.state).toBe(n >= 3 ? 'done' : 'undone');
      const now = await two.manager.api.get<Instance>('/instances/mv1');
      const where = n >= 3 ? to : from;
      const other = where === 'host-a' ? 'host-b' : 'host-a';
      expect(now).toMatchObject({ host: { name: where }, state: 'stopped', ip: web.ip });
      const domain = `storm-${web.id}`;
      expect((await two.hosts[where].virsh('list', '--all', '--name')).split('\n').filter((d) => d.startsWith('storm-'))).toEqual([domain]);
      expect((await two.hosts[other].virsh('list', '--all', '--name')).split('\n').filter((d) => d.startsWith('storm-'))).toEqual([]);
      expect(await two.hosts[where].virsh('domstate', domain)).toBe('shut off');
      expect(await filesUnder(other)).toEqual([]);
      expect((await filesUnder(where)).filter((f) => f.includes('.incoming-'))).toEqual([]);
      expect(await filesUnder(where)).toContain(join(web.id, 'writable', 'w0.qcow2'));
    }, 180_000);
  }
});

describe('evacuating a host', () => {
  it('leaves both its instances running on the other host and it drained; a launch then never lands on it', async () => {
    const api = two.manager.api;
    let mv1 = await api.get<Instance>('/instances/mv1');
    const from = mv1.host!.name as 'host-a' | 'host-b';
    const to = from === 'host-a' ? 'host-b' : 'host-a';
    if (mv1.state !== 'running') mv1 = await api.post<Instance>('/instances/mv1/actions', { action: 'start' });
    const mv2 = await api.post<Instance>('/instances', { appliance: 'hello-web', version: '1.0.0', name: 'mv2', host: from });
    // Booted through, so each stop on the way is the quick ACPI one.
    await booted(mv1.id);
    await booted(mv2.id);

    const evacuated = await stormCli(two.manager.url, two.managerDir).run(['host', 'evacuate', from, '--allow-restart']);
    expect(evacuated.code, evacuated.output).toBe(0);
    expect(evacuated.output).toContain(`moved    mv1 → ${to}`);
    expect(evacuated.output).toContain(`moved    mv2 → ${to}`);
    for (const i of [mv1, mv2]) {
      expect(await api.get<Instance>(`/instances/${i.id}`)).toMatchObject({ host: { name: to }, state: 'running', ip: i.ip });
      expect(await two.hosts[to].virsh('domstate', `storm-${i.id}`)).toBe('running');
    }
    expect((await two.hosts[from].virsh('list', '--all', '--name')).split('\n').filter((d) => d.startsWith('storm-'))).toEqual([]);
    expect(await folders(from)).toEqual([]);
    expect(await api.get<{ drained: boolean }>(`/hosts/${from}`)).toMatchObject({ drained: true });

    // The drained host is emptier than the other, so spreading alone would pick it every time.
    for (const name of ['after1', 'after2', 'after3']) {
      const launched = await api.post<Instance>('/instances', { appliance: 'hello-web', version: '1.0.0', name });
      expect(launched.host?.name, name).toBe(to);
    }
  }, 900_000);
});
