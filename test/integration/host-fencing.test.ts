/**
 * Drained and dead hosts with the real binaries on libvirt test:///default: a manager process and two
 * stormd. A drained host takes no launch (many of them, though it is the emptiest) and refuses a pin
 * until undrained. A fence command that fails stops a declaration with its output; a host that still
 * heartbeats cannot be declared dead without one. The stormd of a host with instances is killed by
 * pid: they become unknown and nothing starts them elsewhere; declared dead (after a fence command
 * that checks the process is gone) they are lost, with what was lost. Its stormd started again
 * reports the instances' folders (test:///default forgets domains, so a comeback would define and
 * start them): they are removed, never started, the records stay lost, the host stays dead until
 * undrained, and then takes launches again.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostClient } from '../../manager/src/hosts/host-client.js';
import type { DeathReport, HostView, InstanceView, UndrainAnswer } from '../../manager/protocol/index.js';
import { clientTlsOptions } from '../../trust/index.js';
import { pollUntil } from '../helpers/poll.js';
import { type StormCli, stormCli } from '../helpers/storm-cli.js';
import { startStormd, type StormdProcess } from '../helpers/stormd-process.js';
import { startSubscribedManager, type SubscribedManager } from '../helpers/subscribed-manager.js';

interface StormEvent {
  type: string;
  data: Record<string, unknown>;
}

let env: SubscribedManager | undefined;
let cli: StormCli;
let a: StormdProcess;
/** host-a's stormd as the manager dials it (the manager's client certificate). */
let clientA: () => Promise<HostClient>;

const api = () => env!.manager.api;
const host = (name: string) => api().get<HostView>(`/hosts/${name}`);
const instance = (name: string) => api().get<InstanceView>(`/instances/${name}`);
const launch = (name: string, pin?: string) =>
  api().post<InstanceView>('/instances', { appliance: 'hello-web', version: '1.0.0', name, ...(pin ? { host: pin } : {}) });
const events = async (type: string) =>
  (await api().get<{ events: StormEvent[] }>(`/events/recent?type=${type}&limit=2000`)).events.filter((e) => e.type === type);

beforeAll(async () => {
  env = await startSubscribedManager('storm-fencing-', ['--network', '10.78.0.0/24']);
  const { manager, dir } = env;
  cli = stormCli(manager.url, join(dir, 'manager'));
  [a] = await Promise.all([
    startStormd(manager, { name: 'host-a', dir, hypervisor: 'test:///default' }),
    startStormd(manager, { name: 'host-b', dir, hypervisor: 'test:///default' }),
  ]);
  const pki = join(dir, 'manager', 'pki');
  const [ca, cert, key] = await Promise.all(
    ['ca.pem', 'manager-client.pem', 'manager-client.key'].map((f) => readFile(join(pki, f), 'utf8')),
  );
  clientA = async () => new HostClient(a.url, clientTlsOptions({ ca: ca!, cert: cert!, key: key!, servername: '127.0.0.1' }), 'host-a');
}, 180_000);
afterAll(() => env?.close());

describe('a drained host', () => {
  it('takes no launch, though it is the emptiest, and refuses a pin saying to undrain it', async () => {
    const drained = await cli.run(['host', 'drain', 'host-a']);
    expect(drained).toMatchObject({ code: 0, stdout: expect.stringContaining('host-a is drained') });
    expect(await host('host-a')).toMatchObject({ status: 'ready', drained: true, drainedAt: expect.any(String) });
    expect((await cli.run(['hosts'])).stdout).toMatch(/host-a\s+ready, drained/);

    const launched = await Promise.all(['d1', 'd2', 'd3', 'd4', 'd5', 'd6'].map((n) => launch(n)));
    expect(launched.map((i) => `${i.name} ${i.host!.name} ${i.state}`)).toEqual([
      'd1 host-b running',
      'd2 host-b running',
      'd3 host-b running',
      'd4 host-b running',
      'd5 host-b running',
      'd6 host-b running',
    ]);
    await expect(launch('pinned', 'host-a')).rejects.toMatchObject({
      status: 409,
      code: 'MGR_ERR_HOST_DRAINED',
      message: 'host drained: host host-a is drained; storm host undrain host-a lets it take instances again',
    });
    expect((await (await clientA()).instances()).length).toBe(0);
    // Nor a volume: both hosts hold none, and host-a would come first by name.
    expect((await api().post<{ host: string }>('/volumes', { name: 'vb', sizeMiB: 8 })).host).toBe('host-b');
  }, 300_000);

  it('takes launches again once undrained', async () => {
    const undrained = await api().post<UndrainAnswer>('/hosts/host-a/undrain', {});
    expect(undrained).toMatchObject({ host: { name: 'host-a', drained: false, status: 'ready' }, staleRemoved: [] });
    // host-b holds six: spreading picks the empty host-a again.
    expect((await launch('web1')).host!.name).toBe('host-a');
    expect((await launch('web2', 'host-a')).host!.name).toBe('host-a');
    expect((await api().post<InstanceView>('/instances/web2/actions', { action: 'stop' })).state).toBe('stopped');
    // A volume of host-a attached to nothing: lost with it, later.
    expect((await api().post<{ host: string }>('/volumes', { name: 'va', sizeMiB: 8, host: 'host-a' })).host).toBe('host-a');
  }, 120_000);
});

describe('a host that dies', () => {
  let web1: InstanceView;
  let web2: InstanceView;

  it('is not declared dead when its fence command fails, and says why', async () => {
    await api().put('/hosts/host-a/fence', { argv: ['sh', '-c', 'echo "BMC of $STORM_HOST_NAME refused"; exit 4'], timeoutSeconds: 10 });
    const run = await cli.run(['host', 'declare-dead', 'host-a', '--yes']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('MGR_ERR_FENCE_FAILED');
    expect(run.stderr).toContain('host-a: exit 4: BMC of host-a refused');
    expect(await host('host-a')).toMatchObject({ status: 'ready', drained: false, deadAt: null });
    expect((await instance('web1')).state).toBe('running');
  });

  it('is not declared dead while it heartbeats and has no fence command', async () => {
    expect((await cli.run(['host', 'fence', 'host-a', '--clear'])).code).toBe(0);
    await expect(api().post('/hosts/host-a/declare-dead', {})).rejects.toMatchObject({
      status: 409,
      message: expect.stringContaining('only a host silent past the failure window can be declared dead without a fence command'),
    });
  });

  it('killed, leaves its instances unknown and started nowhere else', async () => {
    web1 = await instance('web1');
    web2 = await instance('web2');
    await a.proc.stop('SIGKILL');
    await pollUntil('host-a unreachable', async () => ((await host('host-a')).status === 'unreachable' ? true : undefined), {
      timeoutMs: 30_000,
    });
    await pollUntil('its instances unknown', async () => ((await instance('web1')).state === 'unknown' ? true : undefined), {
      timeoutMs: 10_000,
    });
    expect((await instance('web2')).state).toBe('unknown');
    const report = await api().post<{ hostsUnreachable: string[]; lost: string[] }>('/reconcile');
    expect(report).toMatchObject({ hostsUnreachable: ['host-a'], lost: [] });
    const onB = await api().get<{ instances: InstanceView[] }>('/instances');
    expect(
      onB.instances
        .filter((i) => i.host?.name === 'host-b')
        .map((i) => i.name)
        .sort(),
    ).toEqual(['d1', 'd2', 'd3', 'd4', 'd5', 'd6']);
  }, 60_000);

  it('declared dead (after a fence command that checks it is off), its instances are lost, with what was lost', async () => {
    // The fence: succeed only when that stormd is gone.
    await api().put('/hosts/host-a/fence', {
      argv: ['sh', '-c', '! kill -0 "$0" 2>/dev/null && echo "pid $0 is gone"', String(a.proc.pid)],
    });
    const report = await cli.json<DeathReport>('host', 'declare-dead', 'host-a', '--yes');
    expect(report.fence).toEqual({ argv: expect.any(Array), exitCode: 0, output: `pid ${a.proc.pid} is gone\n` });
    expect(report.host).toMatchObject({ status: 'dead', drained: true, deadAt: expect.any(String) });
    expect(report.recoverable).toEqual([]);
    expect(report.lost.map((l) => [l.name, l.was, l.lost]).sort()).toEqual([
      ['web1', 'unknown', ['its writable layer (everything written since launch)']],
      ['web2', 'unknown', ['its writable layer (everything written since launch)']],
    ]);
    expect(report.volumesLost).toEqual(['va']);
    for (const name of ['web1', 'web2'])
      expect(await instance(name)).toMatchObject({ state: 'lost', lastError: expect.stringContaining('host host-a was declared dead') });
    // A reconcile pass while it is still down: its silence does not turn lost back into unknown.
    expect(await api().post('/reconcile')).toMatchObject({ hostsUnreachable: ['host-a'], lost: [], staleRemoved: [] });
    for (const name of ['web1', 'web2']) expect((await instance(name)).state).toBe('lost');
    const [dead] = await events('host.dead');
    expect(dead!.data).toMatchObject({ name: 'host-a', fenced: true, lost: report.lost });
    expect((await cli.run(['hosts'])).stdout).toMatch(/host-a\s+dead\s/);
    // Its instances cannot be started (the host may come back with them), nor can anything land there.
    await expect(api().post('/instances/web2/actions', { action: 'start' })).rejects.toMatchObject({
      status: 409,
      message: expect.stringContaining('host host-a, which was declared dead'),
    });
    await expect(launch('web3', 'host-a')).rejects.toMatchObject({
      code: 'MGR_ERR_HOST_DRAINED',
      message: expect.stringContaining('declared dead'),
    });
    expect((await launch('web4')).host!.name).toBe('host-b');
  }, 60_000);

  it('comes back: its stale domains are removed, never started; it stays dead; the database agrees', async () => {
    const folders = [web1, web2].map((i) => join(a.data, 'instances', i.id));
    for (const f of folders) expect((await stat(f)).isDirectory()).toBe(true);
    const before = (await host('host-a')).lastHeartbeat!;
    a = await a.restart();
    await pollUntil('host-a heard again', async () => (((await host('host-a')).lastHeartbeat ?? '') > before ? true : undefined), {
      timeoutMs: 30_000,
    });
    expect(await host('host-a')).toMatchObject({ status: 'dead', drained: true });
    // A few heartbeats: none brings them back (a comeback would define and start both: their folders are there).
    await new Promise((r) => setTimeout(r, 3000));
    expect((await events('instance.restarted')).filter((e) => ['web1', 'web2'].includes(String(e.data['name'])))).toEqual([]);
    for (const name of ['web1', 'web2']) expect((await instance(name)).state).toBe('lost');
    await pollUntil('its stale instances removed', async () => ((await (await clientA()).instances()).length === 0 ? true : undefined), {
      timeoutMs: 30_000,
    });
    expect((await events('host.returned')).map((e) => e.data['name'])).toEqual(['host-a']);
    for (const f of folders) await expect(stat(f)).rejects.toThrow();
    const removed = await events('host.stale-removed');
    expect(removed.map((e) => e.data['name']).sort()).toEqual(['web1', 'web2']);
    for (const name of ['web1', 'web2']) expect((await instance(name)).state).toBe('lost');
    const report = await api().post<{ staleRemoved: string[]; lost: string[]; orphansRemoved: string[]; errors: string[] }>('/reconcile');
    expect(report).toMatchObject({ staleRemoved: [], lost: [], orphansRemoved: [], errors: [] });
    expect(await host('host-a')).toMatchObject({ status: 'dead', drained: true });
    await expect(launch('web5', 'host-a')).rejects.toMatchObject({ code: 'MGR_ERR_HOST_DRAINED' });
  }, 90_000);

  it('undrained, is neither dead nor drained and takes launches again', async () => {
    const run = await cli.run(['host', 'undrain', 'host-a']);
    expect(run).toMatchObject({ code: 0, stdout: expect.stringContaining('host-a is undrained (ready)') });
    expect(await host('host-a')).toMatchObject({ status: 'ready', drained: false, deadAt: null });
    expect((await launch('web6')).host!.name).toBe('host-a');
    // The lost records stay until the administrator removes them; their domains are not coming back.
    expect((await instance('web1')).state).toBe('lost');
  }, 60_000);
});
