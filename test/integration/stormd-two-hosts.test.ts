/**
 * Two stormd processes on this machine (separate data folders and ports, libvirt test:///default
 * each), joined to one fake manager: a layer is staged once per host, each host's store and
 * instances are its own, both heartbeat under their own certificate, and destroy removes the
 * domain and the instance layer. Stopped by pid with SIGTERM, exit 0.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostInfo, InstanceStatus } from '../../stormd/protocol.js';
import { waitFor } from '../../stormd/src/clock.js';
import { joinManager } from '../../stormd/src/join/join.js';
import { startProcess, stopAllProcesses, type TestProcess } from '../helpers/process.js';
import { callStormd, type FakeManager, startFakeManager, type StormdAnswer } from './stormd-fake-manager.js';

const ROOT = resolve(import.meta.dirname, '../..');

interface Host {
  readonly name: string;
  readonly data: string;
  readonly proc: TestProcess;
  readonly url: string;
}

let manager: FakeManager;
let tmp: string;
const hosts: Host[] = [];

async function startHost(name: string): Promise<Host> {
  const data = join(tmp, name);
  await joinManager({ managerUrl: manager.url, token: manager.newToken(), dataDir: data, name, url: 'https://127.0.0.1:9443' });
  const proc = startProcess(
    process.execPath,
    [
      '--import',
      'tsx',
      'stormd/src/main.ts',
      '--data',
      data,
      '--listen',
      '127.0.0.1:0',
      '--hypervisor',
      'test:///default',
      '--log-level',
      'warn',
    ],
    { cwd: ROOT },
  );
  const [, url] = await proc.waitForLine(/stormd: listening on (https:\/\/\S+)/, 60_000);
  return { name, data, proc, url: url! };
}

function call(host: Host, method: string, path: string, body?: unknown): Promise<StormdAnswer> {
  return callStormd(manager, host.url, method, path, body);
}

beforeAll(async () => {
  manager = await startFakeManager({ intervalMs: 200 });
  tmp = await mkdtemp(join(tmpdir(), 'stormd-two-'));
  hosts.push(...(await Promise.all([startHost('host-a'), startHost('host-b')])));
}, 120_000);

afterAll(async () => {
  await stopAllProcesses();
  await manager?.close();
  await rm(tmp, { recursive: true, force: true });
});

describe('two stormd on one machine', () => {
  const id = `two-${randomUUID().slice(0, 8)}`;
  let kernel: string;
  let initrd: string;
  let os: string;

  it('listen on separate ports and report themselves', async () => {
    const [a, b] = hosts as [Host, Host];
    expect(a.url).not.toBe(b.url);
    expect(((await call(a, 'GET', '/v1/host')).body as HostInfo).name).toBe('host-a');
    expect(((await call(b, 'GET', '/v1/host')).body as HostInfo).name).toBe('host-b');
  });

  it('stage a layer once per host, each into its own store', async () => {
    const [a, b] = hosts as [Host, Host];
    kernel = manager.addBlob(Buffer.from('kernel for two'));
    initrd = manager.addBlob(Buffer.from('initrd for two'));
    os = manager.addBlob(Buffer.alloc(100_000, 3));
    const stage = (h: Host, sha: string, size: number) =>
      call(h, 'PUT', `/v1/layers/${sha}`, { url: `${manager.url}/api/v1/images/${sha}/blob`, size });

    expect((await stage(a, os, 100_000)).body).toMatchObject({ staged: true });
    expect(((await call(b, 'GET', '/v1/host')).body as HostInfo).layers).toEqual([]);
    expect(await readdir(join(b.data, 'layers'))).toEqual([]);
    expect((await stage(b, os, 100_000)).body).toMatchObject({ staged: true });
    expect((await stage(a, os, 100_000)).body).toMatchObject({ staged: false });
    expect((await stage(b, os, 100_000)).body).toMatchObject({ staged: false });
    expect(manager.blobFetches.get(`host-a ${os}`)).toBe(1);
    expect(manager.blobFetches.get(`host-b ${os}`)).toBe(1);

    await stage(a, kernel, 14);
    await stage(a, initrd, 14);
    expect(((await call(a, 'GET', '/v1/host')).body as HostInfo).layers.map((l) => l.sha256).sort()).toEqual([kernel, initrd, os].sort());
    expect(((await call(b, 'GET', '/v1/host')).body as HostInfo).layers.map((l) => l.sha256)).toEqual([os]);
  });

  it('run an instance on one host only; destroy removes its domain and instance layer', async () => {
    const [a, b] = hosts as [Host, Host];
    expect((await call(a, 'PUT', `/v1/instances/${id}/layer`, { name: 'web1', sizeMiB: 16 })).status).toBe(201);
    const define = await call(a, 'PUT', `/v1/instances/${id}/domain`, {
      uuid: randomUUID(),
      memoryMiB: 64,
      vcpus: 1,
      boot: { kernel, initrd },
      layers: [os],
      nics: [],
    });
    expect(define.status).toBe(200);
    expect((await call(a, 'POST', `/v1/instances/${id}/actions`, { action: 'start' })).body).toEqual({ state: 'running' });
    expect(((await call(a, 'GET', '/v1/instances')).body as InstanceStatus[]).map((s) => [s.id, s.state])).toEqual([[id, 'running']]);
    expect((await call(b, 'GET', '/v1/instances')).body).toEqual([]);
    // b has not staged the kernel: defining there names what is missing.
    expect((await call(b, 'PUT', `/v1/instances/${id}/layer`, { name: 'web1', sizeMiB: 16 })).status).toBe(201);
    const missing = await call(b, 'PUT', `/v1/instances/${id}/domain`, {
      uuid: randomUUID(),
      memoryMiB: 64,
      vcpus: 1,
      boot: { kernel, initrd },
      layers: [os],
      nics: [],
    });
    expect(missing).toMatchObject({ status: 404, body: { code: 'STORMD_ERR_LAYER_NOT_STAGED', details: { missing: [kernel, initrd] } } });

    expect((await call(a, 'DELETE', `/v1/instances/${id}`)).status).toBe(204);
    expect((await call(a, 'GET', '/v1/instances')).body).toEqual([]);
    await expect(stat(join(a.data, 'instances', id))).rejects.toThrow();
    expect(((await call(b, 'GET', '/v1/instances')).body as InstanceStatus[]).map((s) => s.id)).toEqual([id]);
    expect((await call(b, 'DELETE', `/v1/instances/${id}`)).status).toBe(204);
  });

  it('heartbeat to the manager, each under its own certificate', async () => {
    const seen = () => new Set(manager.heartbeats.map((h) => h.clientCn));
    expect(await waitFor(async () => seen().has('host-a') && seen().has('host-b'), { timeoutMs: 15_000, intervalMs: 100 })).toBe(true);
    const fromB = manager.heartbeats.filter((h) => h.clientCn === 'host-b').at(-1)!;
    expect(fromB.body.info?.name).toBe('host-b');
    // test:///default runs no QEMU: the checks that act as its user do not apply, and nothing fails.
    expect(fromB.body.health?.checks.map((c) => [c.name, c.status])).toEqual([
      ['libvirt', 'ok'],
      ['store-access', 'skip'],
      ['kvm', 'skip'],
      ['define-time', expect.stringMatching(/ok|skip/)],
      ['fuse', 'ok'],
    ]);
  });

  it('stop on SIGTERM with exit 0', async () => {
    for (const h of hosts) expect(await h.proc.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });
});
