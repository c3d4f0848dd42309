/**
 * A host that dies, with a replicated instance and an unreplicated one (issue 16's fifth
 * acceptance line): a manager and two stormd, each on a libvirtd of its own
 * (`harness/two-hosts.ts`), real qemu under TCG, the sample channel's hello-web. rep1 on host-a
 * writes a file from its serial shell, is replicated to host-b (`storm replicate rep1 --to host-b`)
 * and checkpointed (`storm checkpoint rep1`: its frozen layer, holding the file, copied to host-b);
 * lone1 on host-a is not replicated. Then host-a dies: its stormd killed with -9 (by pid), its
 * guests destroyed and its libvirtd stopped (by pid). `storm host declare-dead host-a`: rep1 runs
 * on host-b and its file is there; lone1 is `lost`. host-a comes back (its libvirtd, then its
 * stormd): its stale domains are removed, so `virsh list --all` on both libvirtds agrees with the
 * database and nothing runs twice.
 */
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTwoHosts, type TwoHosts } from '../harness/two-hosts.js';
import { publishSampleChannelForTest, type PublishedChannel } from '../helpers/channel-fixture.js';
import { GuestShells } from '../helpers/guest-shell.js';
import { destroyAllInstances, GUEST_FAILED } from '../helpers/instances.js';
import { pollUntil } from '../helpers/poll.js';
import { stormCli } from '../helpers/storm-cli.js';
import type { StormdProcess } from '../helpers/stormd-process.js';

const SECRET = `replicated-${randomBytes(6).toString('hex')}`;
const BOOT = 'STORM-INIT: root ready';
let two: TwoHosts;
let channel: PublishedChannel;
let shells: GuestShells;
/** host-a's stormd now (it is started again when the host comes back). */
let stormdA: StormdProcess;

interface Instance {
  id: string;
  name: string;
  state: string;
  ip: string | null;
  host: { name: string } | null;
}

beforeAll(async () => {
  channel = await publishSampleChannelForTest();
  two = await startTwoHosts({
    prefix: 'storm-e2e-replication-',
    managerArgs: ['--channel-allow', '127.0.0.0/8', '--heartbeat', '2', '--network', '10.79.0.0/24'],
  });
  stormdA = two.hosts['host-a'].stormd;
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

/** The `storm-*` domains a host's own libvirtd has, with their states. */
async function domains(host: 'host-a' | 'host-b'): Promise<Record<string, string>> {
  const names = (await two.hosts[host].virsh('list', '--all', '--name')).split('\n').filter((d) => d.startsWith('storm-'));
  const out: Record<string, string> = {};
  // A domain undefined between the list and its state (a stale one being removed) is gone.
  for (const d of names) {
    const state = await two.hosts[host].virsh('domstate', d).catch(() => undefined);
    if (state) out[d] = state;
  }
  return out;
}

describe('a host declared dead after its stormd and libvirtd were killed', () => {
  let rep1: Instance;
  let lone1: Instance;

  it('a replicated instance checkpointed with a file in it: its frozen layer is on host-b, no domain there', async () => {
    const api = two.manager.api;
    rep1 = await api.post<Instance>('/instances', { appliance: 'hello-web', version: '1.0.0', name: 'rep1', host: 'host-a' });
    lone1 = await api.post<Instance>('/instances', { appliance: 'hello-web', version: '1.0.0', name: 'lone1', host: 'host-a' });
    const cli = stormCli(two.manager.url, two.managerDir);
    const on = await cli.run(['replicate', 'rep1', '--to', 'host-b']);
    expect(on.code, on.output).toBe(0);
    await booted(rep1.id);
    const w = await shells.run(rep1.name, `echo ${SECRET} > /etc/replicated.txt && sync`);
    expect(w.status, w.out).toBe(0);
    shells.close();
    // A heartbeat late on a loaded machine leaves it `unknown` for a moment; a checkpoint needs it running.
    await pollUntil('rep1 running', async () => ((await api.get<Instance>('/instances/rep1')).state === 'running' ? true : undefined));
    const cp = await cli.run(['checkpoint', 'rep1']);
    expect(cp.code, cp.output).toBe(0);
    const replica = await pollUntil('the checkpoint copied to host-b', async () => {
      const r = await api.get<{ checkpoint: string | null; layers: string[]; error: string | null }>('/instances/rep1/replica');
      return r.checkpoint || r.error ? r : undefined;
    });
    expect(replica).toMatchObject({ layers: ['w0'], error: null });
    expect(await domains('host-b')).toEqual({});
    expect(await readdir(join(two.dir.path, 'host-b', 'instances', rep1.id, 'writable'))).toContain('w0.qcow2');
  }, 300_000);

  it('host-a dies and is declared dead: rep1 runs on host-b with its file, lone1 is lost', async () => {
    const api = two.manager.api;
    // The host dies: its stormd (-9), its guests with it, its libvirtd.
    await stormdA.proc.stop('SIGKILL');
    for (const d of Object.keys(await domains('host-a'))) await two.hosts['host-a'].virsh('destroy', d).catch(() => '');
    await two.hosts['host-a'].libvirtd.stop();
    await pollUntil('host-a unreachable', async () =>
      (await api.get<{ status: string }>('/hosts/host-a')).status === 'unreachable' ? true : undefined,
    );
    const dead = await stormCli(two.manager.url, two.managerDir).run(['host', 'declare-dead', 'host-a', '--yes']);
    expect(dead.code, dead.output).toBe(0);
    expect(dead.output).toMatch(/restarted {4}rep1 on host-b, from its last checkpoint/);
    expect(dead.output).toMatch(/lost {9}lone1/);
    expect(await api.get<Instance>('/instances/rep1')).toMatchObject({ host: { name: 'host-b' }, state: 'running', ip: rep1.ip });
    expect(await api.get<Instance>(`/instances/${lone1.id}`)).toMatchObject({ host: { name: 'host-a' }, state: 'lost' });
    expect(await domains('host-b')).toEqual({ [`storm-${rep1.id}`]: 'running' });
    await booted(rep1.id);
    shells = new GuestShells(two.manager);
    const r = await shells.run(rep1.name, 'cat /etc/replicated.txt');
    expect(r.status, r.out).toBe(0);
    expect(r.out).toContain(SECRET);
    shells.close();
  }, 300_000);

  it('host-a comes back: its stale domains go, virsh on both agrees with the database, nothing runs twice', async () => {
    await two.hosts['host-a'].libvirtd.start();
    stormdA = await stormdA.restart();
    await pollUntil(
      'host-a emptied of its stale domains',
      async () => (Object.keys(await domains('host-a')).length === 0 ? true : undefined),
      {
        timeoutMs: 60_000,
      },
    );
    expect((await readdir(join(two.dir.path, 'host-a', 'instances'))).filter((f) => !f.startsWith('.'))).toEqual([]);
    expect(await domains('host-b')).toEqual({ [`storm-${rep1.id}`]: 'running' });
    const { instances } = await two.manager.api.get<{ instances: Instance[] }>('/instances');
    expect(instances.map((i) => [i.name, i.host?.name, i.state]).sort()).toEqual([
      ['lone1', 'host-a', 'lost'],
      ['rep1', 'host-b', 'running'],
    ]);
  }, 120_000);
});
