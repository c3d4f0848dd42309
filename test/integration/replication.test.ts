/**
 * Replication and a restart from a replica, with real parts: a storm-manager process, two stormd
 * processes (host-a, host-b; each its own data folder and its own libvirt test:///default), the
 * fixture channel's hello-web. `storm replicate` then `storm checkpoint` copy the instance's frozen
 * layer to host-b byte for byte, with no domain there (reconcile keeps the folder); host-a's stormd
 * killed with -9 and `storm host declare-dead` restart the replicated instance on host-b from that
 * copy (the journal's `replica-restart` steps, done in order) and report the other lost; host-a
 * back: its stale domains and folders go, and nothing of either instance is left on it.
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

type HostName = 'host-a' | 'host-b';

let work: string;
let data: string;
let channel: PublishedChannel;
let manager: ManagerProcess;
const hosts: Record<HostName, StormdProcess> = {} as Record<HostName, StormdProcess>;

interface Instance {
  id: string;
  name: string;
  state: string;
  ip: string | null;
  host: { name: string } | null;
}

interface Replica {
  instance: string;
  host: string;
  checkpoint: string | null;
  layers: string[];
  error: string | null;
}

const instance = (name: string) => manager.api.get<Instance>(`/instances/${name}`);

/** What the host holds of the instance: its folder on disk, and its domain as the host's own stormd lists it. */
async function onHost(name: HostName, id: string): Promise<{ folder: boolean; domain: string }> {
  const folders = (await readdir(join(hosts[name].data, 'instances')).catch(() => [] as string[])).filter((f) => !f.startsWith('.'));
  const pki = join(data, 'pki');
  const [ca, cert, key] = await Promise.all(
    ['ca.pem', 'manager-client.pem', 'manager-client.key'].map((f) => readFile(join(pki, f), 'utf8')),
  );
  const statuses = await new HostClient(hosts[name].url, { ca, cert, key, servername: '127.0.0.1' }, name).instances();
  return { folder: folders.includes(id), domain: statuses.find((s) => s.id === id)?.state ?? 'absent' };
}

async function sha(name: HostName, id: string, file: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(join(hosts[name].data, 'instances', id, 'writable', file)))
    .digest('hex');
}

const lastRestart = async (name: string) => {
  const db = await Database.open(join(data, 'storm.db'));
  try {
    const op = await db.get<{ id: string; state: string }>(
      "SELECT id, state FROM operations WHERE kind = 'replica-restart' AND json_extract(subject, '$.name') = ? ORDER BY started_at DESC LIMIT 1",
      [name],
    );
    if (!op) return undefined;
    const steps = await db.all<{ name: string; state: string }>(
      'SELECT name, state FROM operation_steps WHERE operation_id = ? ORDER BY seq',
      [op.id],
    );
    return { state: op.state, steps: steps.map((s) => `${s.name}:${s.state}`) };
  } finally {
    await db.close();
  }
};

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'storm-replication-'));
  data = join(work, 'manager');
  channel = await publishChannel();
  const port = await freePort();
  manager = await startManager(data, [
    '--listen',
    `127.0.0.1:${port}`,
    '--channel-allow',
    '127.0.0.0/8',
    '--heartbeat',
    '1',
    '--missed-heartbeats',
    '2',
    '--reconcile',
    '0',
    '--network',
    '10.79.0.0/24',
  ]);
  await manager.api.post('/channels', { url: channel.feedUrl, publicKey: channel.publicKey });
  hosts['host-a'] = await startStormd(manager, { name: 'host-a', dir: work, hypervisor: 'test:///default' });
  hosts['host-b'] = await startStormd(manager, { name: 'host-b', dir: work, hypervisor: 'test:///default' });
}, 180_000);

afterAll(async () => {
  await stopAllProcesses();
  await channel?.close();
  await rm(work, { recursive: true, force: true });
});

describe('replication', () => {
  let web1: Instance;
  let web2: Instance;

  it('storm replicate, then storm checkpoint: the frozen layer is on host-b byte for byte, with no domain there', async () => {
    web1 = await manager.api.post<Instance>('/instances', { appliance: 'hello-web', name: 'web1', host: 'host-a' });
    web2 = await manager.api.post<Instance>('/instances', { appliance: 'hello-web', name: 'web2', host: 'host-a' });
    const cli = stormCli(manager.url, data);
    const own = await cli.run(['replicate', 'web1', '--to', 'host-a']);
    expect(own.code).not.toBe(0);
    expect(own.output).toMatch(/lives on host-a: a replica goes on another host/);
    const on = await cli.run(['replicate', 'web1', '--to', 'host-b']);
    expect(on.code, on.output).toBe(0);
    expect(on.output).toMatch(/web1: replica on host-b, nothing frozen yet/);

    const cp = await cli.run(['checkpoint', 'web1']);
    expect(cp.code, cp.output).toBe(0);
    const replica = await pollUntil('the checkpoint copied to host-b', async () => {
      const r = await manager.api.get<Replica>('/instances/web1/replica');
      return r.checkpoint ? r : undefined;
    });
    expect(replica).toMatchObject({ host: 'host-b', layers: ['w0'], error: null });
    expect(await sha('host-b', web1.id, 'w0.qcow2')).toBe(await sha('host-a', web1.id, 'w0.qcow2'));
    expect(await onHost('host-b', web1.id)).toEqual({ folder: true, domain: 'absent' });
    expect((await instance('web1')).state).toBe('running');
    // Reconcile keeps the replica's folder: its instance is known.
    expect(await manager.api.post<{ orphansRemoved: string[] }>('/reconcile')).toMatchObject({ orphansRemoved: [] });
    expect((await onHost('host-b', web1.id)).folder).toBe(true);
  }, 120_000);

  it('storm launch --replicate host-b --replicate-every 10s: placed off host-b, checkpointed by the manager, each copied', async () => {
    const cli = stormCli(manager.url, data);
    const onB = await cli.run(['launch', 'hello-web', 'web3', '--host', 'host-b', '--replicate', 'host-b']);
    expect(onB.code).not.toBe(0);
    expect(onB.output).toMatch(/host-b is to keep the instance's replica/);
    const short = await cli.run(['launch', 'hello-web', 'web3', '--replicate', 'host-b', '--replicate-every', '5s']);
    expect(short.code).not.toBe(0);
    expect(short.output).toMatch(/--replicate-every 5s: at least 10s/);
    const r = await cli.run(['launch', 'hello-web', 'web3', '--replicate', 'host-b', '--replicate-every', '10s']);
    expect(r.code, r.output).toBe(0);
    const web3 = await instance('web3');
    expect(web3.host?.name).toBe('host-a');
    expect(await manager.api.get<Replica & { every: number | null }>('/instances/web3/replica')).toMatchObject({
      host: 'host-b',
      every: 10,
      checkpoint: null,
    });
    // No one asks for a checkpoint: the manager takes one after 10 s, and the copy follows it.
    const replica = await pollUntil(
      'a scheduled checkpoint of web3 copied to host-b',
      async () => {
        const v = await manager.api.get<Replica>('/instances/web3/replica');
        return v.checkpoint ? v : undefined;
      },
      { timeoutMs: 60_000 },
    );
    const { checkpoints } = await manager.api.get<{ checkpoints: { id: string; reason: string }[] }>('/instances/web3/checkpoints');
    expect(checkpoints.at(-1)).toMatchObject({ id: replica.checkpoint, reason: 'replication, every 10s' });
    expect(await sha('host-b', web3.id, 'w0.qcow2')).toBe(await sha('host-a', web3.id, 'w0.qcow2'));
    const shown = await cli.run(['replicate', 'web3']);
    expect(shown.output).toMatch(/web3: replica on host-b, checkpointed every 10s, as of checkpoint/);
    // The interval off, the copy stays: only the checkpoints the administrator takes from now on.
    const off = await cli.run(['replicate', 'web3', '--to', 'host-b']);
    expect(off.code, off.output).toBe(0);
    expect(await manager.api.get<Replica & { every: number | null }>('/instances/web3/replica')).toMatchObject({
      every: null,
      checkpoint: replica.checkpoint,
    });
  }, 120_000);

  it("host-a's stormd killed, host-a declared dead: web1 runs on host-b from its replica, web2 is lost", async () => {
    await hosts['host-a'].proc.stop('SIGKILL');
    await pollUntil('host-a unreachable', async () =>
      (await manager.api.get<{ status: string }>('/hosts/host-a')).status === 'unreachable' ? true : undefined,
    );
    const r = await stormCli(manager.url, data).run(['host', 'declare-dead', 'host-a', '--yes']);
    expect(r.code, r.output).toBe(0);
    expect(r.output).toMatch(/restarted {4}web1 on host-b, from its last checkpoint/);
    expect(r.output).toMatch(/lost {9}web2/);
    expect(await lastRestart('web1')).toEqual({
      state: 'done',
      steps: ['host.stage', 'host.writable-layer', 'host.define', 'host.start', 'replication.switch-host'].map((s) => `${s}:done`),
    });
    expect(await instance('web1')).toMatchObject({ host: { name: 'host-b' }, state: 'running', ip: web1.ip });
    expect((await onHost('host-b', web1.id)).domain).toBe('running');
    expect(await instance('web2')).toMatchObject({ host: { name: 'host-a' }, state: 'lost' });
    // The replica became the instance: there is none any more.
    await expect(manager.api.get('/instances/web1/replica')).rejects.toMatchObject({ status: 404 });
  }, 120_000);

  it('host-a back: its stale domains and folders go, nothing runs twice', async () => {
    hosts['host-a'] = await hosts['host-a'].restart();
    await pollUntil('host-a emptied of its stale instances', async () => {
      const left = (await readdir(join(hosts['host-a'].data, 'instances')).catch(() => [] as string[])).filter((f) => !f.startsWith('.'));
      return left.length === 0 ? true : undefined;
    });
    expect(await onHost('host-a', web1.id)).toEqual({ folder: false, domain: 'absent' });
    expect(await onHost('host-a', web2.id)).toEqual({ folder: false, domain: 'absent' });
    expect((await onHost('host-b', web1.id)).domain).toBe('running');
    expect(await instance('web1')).toMatchObject({ host: { name: 'host-b' }, state: 'running' });
  }, 120_000);
});
