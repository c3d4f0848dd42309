/**
 * stormd end to end on qemu:///system: a joined stormd stages the real guest kernel, initrd and
 * layers from the (fake) manager over mutual TLS, creates the instance layer, defines and starts
 * the domain; the appliance boots from the store's files (which libvirt's qemu user must be able
 * to read, and nobody else: as `nobody`, no disk, layer, log or identity file opens), the console
 * tail shows it, it stops gracefully, and removal leaves no domain and no instance folder. A disk
 * image defined with firmware uefi boots by OVMF (a disk only UEFI can boot: systemd-boot on FAT).
 * Needs `npm run build:appliances` first, like test/e2e.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SerialTail, HostInfo } from '../../stormd/protocol.js';
import { waitFor } from '../../stormd/src/clock.js';
import { openAs } from '../../stormd/src/health/open-as.js';
import { joinManager } from '../../stormd/src/join/join.js';
import { startStormd, type StormdHandle } from '../../stormd/src/serve.js';
import { ensureLibvirtd, type LibvirtdHandle } from '../harness/libvirtd.js';
import { makeUefiDisk } from '../helpers/uefi-disk.js';
import { callStormd, type FakeManager, startFakeManager, type StormdAnswer } from './stormd-fake-manager.js';

const BUILD = resolve(import.meta.dirname, '../../appliances/build');
const ART = {
  kernel: join(BUILD, 'vmlinuz'),
  initrd: join(BUILD, 'initrd.img'),
  tinyOs: join(BUILD, 'layers/tiny-os.squashfs'),
  helloWeb: join(BUILD, 'layers/hello-web.squashfs'),
};
const BOOT_MS = 120_000;

let lv: LibvirtdHandle | undefined;
let manager: FakeManager;
let stormd: StormdHandle | undefined;
let data: string;
const sha: Record<keyof typeof ART, string> = { kernel: '', initrd: '', tinyOs: '', helloWeb: '' };
const size: Record<keyof typeof ART, number> = { kernel: 0, initrd: 0, tinyOs: 0, helloWeb: 0 };
const id = `qemu-${randomUUID().slice(0, 8)}`;

const call = (method: string, path: string, body?: unknown): Promise<StormdAnswer> => {
  if (!stormd) throw new Error('stormd did not start');
  return callStormd(manager, stormd.url, method, path, body);
};

beforeAll(async () => {
  const missing: string[] = [];
  for (const p of Object.values(ART))
    if (
      !(await stat(p).then(
        (s) => s.isFile(),
        () => false,
      ))
    )
      missing.push(p);
  // Fail, never skip: a missing artifact is a broken build.
  if (missing.length) throw new Error(`guest artifacts missing (${missing.join(', ')}): run \`npm run build:appliances\` first`);
  manager = await startFakeManager({ intervalMs: 1000 });
  for (const key of Object.keys(ART) as (keyof typeof ART)[]) {
    const bytes = await readFile(ART[key]);
    sha[key] = manager.addBlob(bytes);
    size[key] = bytes.length;
  }
  lv = await ensureLibvirtd();
  data = await mkdtemp(join(tmpdir(), 'stormd-qemu-')); // 0700: stormd must open it up for libvirt-qemu
  await joinManager({ managerUrl: manager.url, token: manager.newToken(), dataDir: data, name: 'host-q', url: 'https://127.0.0.1:9443' });
  stormd = await startStormd({ data, listen: '127.0.0.1:0', hypervisor: lv.uri, renewBeforeDays: 30, logLevel: 'warn', logFormat: 'json' });
}, 120_000);

afterAll(async () => {
  await stormd?.instances.remove(id).catch(() => undefined);
  await stormd?.close();
  await manager?.close();
  await lv?.stop();
  if (data) await rm(data, { recursive: true, force: true });
});

describe('stormd on qemu:///system', () => {
  it('boots a layered appliance from its store and removes it cleanly', async () => {
    const info = (await call('GET', '/v1/host')).body as HostInfo;
    expect(info.hypervisor.uri).toBe('qemu:///system');
    expect(['kvm', 'qemu']).toContain(info.hypervisor.domainType);

    for (const key of Object.keys(ART) as (keyof typeof ART)[]) {
      const res = await call('PUT', `/v1/layers/${sha[key]}`, { url: `${manager.url}/api/v1/images/${sha[key]}/blob`, size: size[key] });
      expect(res, key).toMatchObject({ status: 200, body: { staged: true } });
    }
    expect((await call('PUT', `/v1/instances/${id}/layer`, { name: 'hello-q', sizeMiB: 64 })).status).toBe(201);
    const define = await call('PUT', `/v1/instances/${id}/domain`, {
      uuid: randomUUID(),
      memoryMiB: 256,
      vcpus: 1,
      boot: { kernel: sha.kernel, initrd: sha.initrd },
      layers: [sha.tinyOs, sha.helloWeb],
      nics: [],
    });
    expect(define).toMatchObject({ status: 200, body: { state: 'shutoff' } });
    expect((await call('POST', `/v1/instances/${id}/actions`, { action: 'start' })).body).toEqual({ state: 'running' });

    let text = '';
    const up = await waitFor(
      async () => {
        text = ((await call('GET', `/v1/instances/${id}/console?bytes=65536`)).body as SerialTail).text;
        if (/STORM-INIT: error/.test(text)) throw new Error(`the guest failed to boot:\n${text.slice(-4000)}`);
        return /hello-web: httpd started on :80/.test(text);
      },
      { timeoutMs: BOOT_MS, intervalMs: 500 },
    );
    expect(up, `console:\n${text.slice(-4000)}`).toBe(true);
    expect(text).toContain('STORM-INIT: root ready layers=3');
    // QEMU reads the store; any other local user reads nothing of it, the guest's token least of all.
    const secrets = [
      join(data, 'instances', id, 'writable', 'w0.qcow2'),
      join(data, 'instances', id, 'console.log'),
      join(data, 'layers', sha.helloWeb),
      join(data, 'key.pem'),
      join(data, 'host.json'),
    ];
    const asNobody = await openAs(
      { uid: 65534, gid: 65534, groups: [65534] },
      secrets.map((path) => ({ path, write: false })),
    );
    expect(asNobody.filter((r) => r.ok)).toEqual([]);
    // At least ours: other suites may run storm-* guests on this shared libvirtd at the same time.
    expect(((await call('GET', '/v1/host')).body as HostInfo).allocatedMemoryMiB).toBeGreaterThanOrEqual(256);

    const stop = await call('POST', `/v1/instances/${id}/actions`, { action: 'stop', timeoutMs: 60_000 });
    expect(stop).toEqual({ status: 200, body: { state: 'shutoff', outcome: 'graceful' } });
    expect((await call('DELETE', `/v1/instances/${id}`)).status).toBe(204);
    expect(await call('GET', `/v1/instances/${id}`)).toMatchObject({ status: 404 });
    await expect(stat(join(data, 'instances', id))).rejects.toThrow();
    // The store keeps its layers for the next instance.
    expect(((await call('GET', '/v1/host')).body as HostInfo).layers.map((l) => l.sha256).sort()).toEqual(Object.values(sha).sort());
  }, 240_000);

  it('boots a disk image by UEFI (OVMF) when the define says firmware uefi', async () => {
    const disk = join(data, 'uefi-probe.raw');
    await makeUefiDisk(disk, { kernel: ART.kernel, initrd: ART.initrd });
    const bytes = await readFile(disk);
    const image = manager.addBlob(bytes);
    await rm(disk);
    const uefi = `uefi-${randomUUID().slice(0, 8)}`;
    try {
      const staged = await call('PUT', `/v1/layers/${image}`, { url: `${manager.url}/api/v1/images/${image}/blob`, size: bytes.length });
      expect(staged).toMatchObject({ status: 200, body: { staged: true } });
      const made = await call('PUT', `/v1/instances/${uefi}/disk`, { name: 'uefi-q', image, format: 'raw', firmware: 'uefi', sizeMiB: 64 });
      expect(made.status, JSON.stringify(made.body)).toBe(201);
      const define = await call('PUT', `/v1/instances/${uefi}/domain`, {
        uuid: randomUUID(),
        memoryMiB: 256,
        vcpus: 1,
        image: { firmware: 'uefi' },
        layers: [],
        nics: [],
      });
      expect(define, JSON.stringify(define.body)).toMatchObject({ status: 200, body: { state: 'shutoff' } });
      expect((await call('POST', `/v1/instances/${uefi}/actions`, { action: 'start' })).body).toEqual({ state: 'running' });
      let text = '';
      // OVMF runs the disk's removable-media loader (systemd-boot), which starts the kernel: only UEFI can.
      const booted = await waitFor(
        async () => {
          text = ((await call('GET', `/v1/instances/${uefi}/console?bytes=65536`)).body as SerialTail).text;
          return /Linux version/.test(text);
        },
        { timeoutMs: BOOT_MS, intervalMs: 500 },
      );
      expect(booted, `console:\n${text.slice(-4000)}`).toBe(true);
      expect(text).toMatch(/BdsDxe: starting Boot/);
      // Its UEFI variables are the instance's own file, which goes with the instance.
      expect((await stat(join(data, 'instances', uefi, 'uefi-vars.fd'))).isFile()).toBe(true);
    } finally {
      await call('POST', `/v1/instances/${uefi}/actions`, { action: 'destroy' });
      const removed = await call('DELETE', `/v1/instances/${uefi}`);
      expect(removed.status, JSON.stringify(removed.body)).toBe(204);
    }
    expect(await call('GET', `/v1/instances/${uefi}`)).toMatchObject({ status: 404 });
    await expect(stat(join(data, 'instances', uefi))).rejects.toThrow();
  }, 240_000);
});
