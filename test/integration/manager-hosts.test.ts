/**
 * Hosts and launch with the real binaries on libvirt test:///default: a manager process, two stormd
 * enrolled with `stormd join` and tokens from the API. Enrolment tokens are single use and expire;
 * placement spreads and honours a pin; each layer is staged once per host; destroy removes the
 * domain and the instance layer; the manager refuses a host whose certificate lacks the name it dials;
 * revocation takes a host out.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManagerProcess } from '../helpers/manager-process.js';
import { pollUntil } from '../helpers/poll.js';
import { startSubscribedManager, type SubscribedManager } from '../helpers/subscribed-manager.js';
import { freePort, joinStormd, serveStormd, startStormd, type StormdProcess } from '../helpers/stormd-process.js';

interface HostView {
  id: string;
  name: string;
  status: string;
  url: string;
}
interface InstanceView {
  id: string;
  name: string;
  state: string;
  mac: string;
  host: { id: string; name: string };
  layers: { kind: string; sha256: string | null; writable: boolean }[];
}

let dir: string;
let manager: ManagerProcess;
const hosts: StormdProcess[] = [];

const waitFor = <T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000) => pollUntil(what, fn, { timeoutMs });
const hostList = async () => (await manager.api.get<{ hosts: HostView[] }>('/hosts')).hosts;

let env: SubscribedManager | undefined;
beforeAll(async () => {
  env = await startSubscribedManager('storm-hosts-');
  ({ dir, manager } = env);
}, 120_000);
afterAll(() => env?.close());

describe('enrolment', () => {
  it('a token works once; reused or expired it is refused with 403, and the trust list is unchanged', async () => {
    const { token, command } = await manager.api.post<{ token: string; command: string }>('/hosts/tokens', {});
    expect(command).toContain(`stormd join ${manager.url} --token ${token}`);
    const port = await freePort();
    const data = join(dir, 'host-a');
    expect((await joinStormd(manager, { name: 'host-a', data, url: `https://127.0.0.1:${port}`, token })).code).toBe(0);
    hosts.push(await serveStormd({ name: 'host-a', data, listen: `127.0.0.1:${port}`, hypervisor: 'test:///default' }));
    const before = await hostList();

    const reused = await joinStormd(manager, { name: 'host-x', data: join(dir, 'host-x'), url: 'https://127.0.0.1:3', token });
    expect(reused.code).not.toBe(0);
    expect(reused.output).toMatch(/403/);
    expect(reused.output).toMatch(/already used/);

    const short = await manager.api.post<{ token: string }>('/hosts/tokens', { ttlSeconds: 1 });
    await new Promise((r) => setTimeout(r, 1500));
    const expired = await joinStormd(manager, {
      name: 'host-z',
      data: join(dir, 'host-z'),
      url: 'https://127.0.0.1:4',
      token: short.token,
    });
    expect(expired.code).not.toBe(0);
    expect(expired.output).toMatch(/403/);
    expect(expired.output).toMatch(/expired/);

    const trusted = (list: HostView[]) => list.map((h) => `${h.id} ${h.name} ${h.url}`);
    expect(trusted(await hostList())).toEqual(trusted(before));
    expect(before.map((h) => h.name)).toEqual(['host-a']);
  });

  it('a second host joins and both report ready', async () => {
    hosts.push(await startStormd(manager, { name: 'host-c', dir, hypervisor: 'test:///default' }));
    const ready = await waitFor('both hosts ready', async () => {
      const list = (await hostList()).filter((h) => h.status === 'ready');
      return list.length === 2 ? list : undefined;
    });
    expect(ready.map((h) => h.name).sort()).toEqual(['host-a', 'host-c']);
  });
});

describe('launch and placement', () => {
  const launched: InstanceView[] = [];

  it('spreads instances over the hosts, with the layer stack bottom to top', async () => {
    for (const name of ['web1', 'web2'])
      launched.push(await manager.api.post<InstanceView>('/instances', { appliance: 'hello-web', version: '1.0.0', name }));
    expect(new Set(launched.map((i) => i.host.name))).toEqual(new Set(['host-a', 'host-c']));
    expect(launched.every((i) => i.state === 'running')).toBe(true);
    expect(launched[0]!.layers.map((l) => l.kind)).toEqual(['os', 'appliance', 'instance']);
    expect(launched[0]!.layers.at(-1)).toMatchObject({ writable: true });
    expect(new Set(launched.map((i) => i.mac)).size).toBe(2);
  });

  it('honours a pin, and stages each layer once per host', async () => {
    const a = hosts.find((h) => h.name === 'host-a')!;
    const store = join(a.data, 'layers');
    const before = await Promise.all((await readdir(store)).map(async (f) => [f, (await stat(join(store, f))).ino] as const));
    const pinned = await manager.api.post<InstanceView>('/instances', {
      appliance: 'hello-web',
      version: '1.0.0',
      name: 'web3',
      host: 'host-a',
    });
    launched.push(pinned);
    expect(pinned.host.name).toBe('host-a');
    const after = await Promise.all((await readdir(store)).map(async (f) => [f, (await stat(join(store, f))).ino] as const));
    expect(after).toEqual(before);
    expect(before.length).toBe(4); // os layer, kernel, initrd, appliance layer: once each
  });

  it('refuses duplicate names, unknown appliances and bad parameters without leaving anything', async () => {
    await expect(manager.api.post('/instances', { appliance: 'hello-web', name: 'web1' })).rejects.toMatchObject({ status: 409 });
    await expect(manager.api.post('/instances', { appliance: 'nope', name: 'x1' })).rejects.toMatchObject({ status: 404 });
    await expect(
      manager.api.post('/instances', { appliance: 'hello-web', version: '1.0.0', name: 'x2', params: { greeting: '<script>' } }),
    ).rejects.toMatchObject({ status: 400 });
    await expect(manager.api.post('/instances', { appliance: 'hello-web', name: 'x3', bogus: 1 })).rejects.toMatchObject({ status: 400 });
    const names = (await manager.api.get<{ instances: InstanceView[] }>('/instances')).instances.map((i) => i.name).sort();
    expect(names).toEqual(['web1', 'web2', 'web3']);
  });

  it('stops, starts and reboots, with states following', async () => {
    const stopped = await manager.api.post<InstanceView>(`/instances/web1/actions`, { action: 'stop' });
    expect(stopped.state).toBe('stopped');
    expect((await manager.api.post<InstanceView>(`/instances/web1/actions`, { action: 'start' })).state).toBe('running');
    expect((await manager.api.post<InstanceView>(`/instances/web1/actions`, { action: 'reboot' })).state).toBe('running');
  });

  it('destroy removes the domain and the instance layer on the host', async () => {
    const victim = launched.find((i) => i.name === 'web3')!;
    const a = hosts.find((h) => h.name === 'host-a')!;
    expect((await stat(join(a.data, 'instances', victim.id))).isDirectory()).toBe(true);
    await manager.api.delete(`/instances/${victim.id}`);
    await expect(stat(join(a.data, 'instances', victim.id))).rejects.toThrow();
    await expect(manager.api.get(`/instances/${victim.id}`)).rejects.toMatchObject({ status: 404 });
    const report = await manager.api.post<{ orphansRemoved: string[]; lost: string[] }>('/reconcile');
    expect(report).toMatchObject({ orphansRemoved: [], lost: [] });
  });
});

describe('trust', () => {
  it('refuses a host whose certificate does not carry the name it dials', async () => {
    // host-d listens on every loopback address but its certificate names only 127.0.0.1.
    const d = await startStormd(manager, { name: 'host-d', dir, hypervisor: 'test:///default', listenHost: '0.0.0.0' });
    hosts.push(d);
    const port = new URL(d.url).port;
    const row = (await hostList()).find((h) => h.name === 'host-d')!;
    const { Database } = await import('../../manager/src/db/database.js');
    const db = await Database.open(join(dir, 'manager', 'storm.db'));
    await db.run('UPDATE hosts SET url = ? WHERE id = ?', [`https://127.0.0.2:${port}`, row.id]);
    await db.close();
    // It answers, so it is not unreachable: the handshake failed, and the error says so.
    await expect(
      manager.api.post('/instances', { appliance: 'hello-web', version: '1.0.0', name: 'web9', host: 'host-d' }),
    ).rejects.toMatchObject({
      status: 502,
      code: 'MGR_ERR_HOST',
      message: expect.stringMatching(
        /host host-d \(https:\/\/127\.0\.0\.2:\d+\) failed the TLS handshake: .*(IP: 127\.0\.0\.2 is not in the cert's list|altnames)/i,
      ),
    });
    expect((await manager.api.get<{ instances: InstanceView[] }>('/instances')).instances.map((i) => i.name)).not.toContain('web9');
  });

  it('revoking a host takes it out of placement and refuses its heartbeats', async () => {
    const c = (await hostList()).find((h) => h.name === 'host-c')!;
    await manager.api.delete(`/hosts/${c.id}`);
    expect((await manager.api.get<HostView>(`/hosts/${c.id}`)).status).toBe('revoked');
    await expect(
      manager.api.post('/instances', { appliance: 'hello-web', version: '1.0.0', name: 'web8', host: 'host-c' }),
    ).rejects.toMatchObject({ status: 409 });
    await new Promise((r) => setTimeout(r, 2500));
    expect((await manager.api.get<HostView>(`/hosts/${c.id}`)).status).toBe('revoked');
  });
});
