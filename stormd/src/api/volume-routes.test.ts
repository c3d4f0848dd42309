/**
 * The volume routes through `inject`, over real files (mkfs.ext4, qemu-img) and libvirt's
 * test:///default driver: a volume made ext4, attached to an instance whose domain is defined and
 * off (config only) or running without hot-plug (at its next start), kept by every later define of that domain after the stack with its serial,
 * refused to a second instance and to removal while attached, gone from the domain once detached,
 * kept when its instance is removed. Hot-plug into a running guest: test/e2e/volumes.test.ts.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VolumeStatus } from '../../protocol.js';
import { runTool } from '../exec.js';
import { LibvirtDriver } from '../hypervisor/libvirt-driver.js';
import { InstancesService } from '../instances/instances-service.js';
import { LayerStore } from '../store/layer-store.js';
import { buildStormdApp } from './app.js';

const blobs = new Map<string, Buffer>();
const blob = (text: string) => {
  const b = Buffer.from(text);
  const sha = createHash('sha256').update(b).digest('hex');
  blobs.set(sha, b);
  return sha;
};
const [kernel, initrd, os] = ['vol kernel', 'vol initrd', 'vol os layer'].map(blob) as [string, string, string];
const source = (u: string) => Readable.from([blobs.get(/([0-9a-f]{64})/.exec(u)?.[1] ?? '') ?? Buffer.alloc(0)]);

let data: string;
let app: FastifyInstance;
let driver: LibvirtDriver;
const a = `vol-a-${randomUUID().slice(0, 8)}`;
const b = `vol-b-${randomUUID().slice(0, 8)}`;
const uuids = new Map<string, string>();

const req = async (method: 'GET' | 'PUT' | 'DELETE', url: string, payload?: object) => {
  const res = await app.inject({ method, url, ...(payload ? { payload } : {}) });
  return { status: res.statusCode, body: res.body ? (res.json() as unknown) : undefined };
};
const define = (instance: string) =>
  req('PUT', `/v1/instances/${instance}/domain`, {
    uuid: uuids.get(instance) ?? uuids.set(instance, randomUUID()).get(instance),
    memoryMiB: 64,
    vcpus: 1,
    boot: { kernel, initrd },
    layers: [os],
    nics: [],
  });
const xml = (instance: string) => driver.xml(`storm-${instance}`);

beforeAll(async () => {
  data = await mkdtemp(join(tmpdir(), 'stormd-volumes-'));
  driver = new LibvirtDriver('test:///default', { pollMs: 20 });
  await driver.connect();
  const store = new LayerStore(data);
  await store.init();
  const instances = new InstancesService({ dataDir: data, driver, store });
  await instances.init();
  app = await buildStormdApp({
    hostInfo: async () => {
      throw new Error('not used');
    },
    store,
    instances,
    layerSource: { check: () => undefined, fetch: async (u) => source(u) },
  });
  for (const sha of [kernel, initrd, os])
    await store.stage(sha, { url: `https://m/${sha}`, size: blobs.get(sha)?.length ?? 0 }, (u) => Promise.resolve(source(u)));
  for (const i of [a, b]) {
    expect((await req('PUT', `/v1/instances/${i}/layer`, { name: i, sizeMiB: 16 })).status).toBe(201);
    expect((await define(i)).status).toBe(200);
  }
});

afterAll(async () => {
  for (const i of [a, b]) await app?.inject({ method: 'DELETE', url: `/v1/instances/${i}` });
  await app?.close();
  await driver?.close();
  if (data) await rm(data, { recursive: true, force: true });
});

describe('volumes (inject, test:///default)', () => {
  const file = () => join(data, 'volumes', 'data1.qcow2');

  it('creates an ext4 volume in the store, once', async () => {
    const made = await req('PUT', '/v1/volumes/data1', { sizeMiB: 32 });
    expect(made).toMatchObject({ status: 201, body: { name: 'data1', sizeMiB: 32, attachedTo: [] } });
    expect((await stat(file())).mode & 0o777).toBe(0o660);
    const info = JSON.parse((await runTool('qemu-img', ['info', '--output=json', file()])).stdout.toString()) as { format: string };
    expect(info.format).toBe('qcow2');
    // ext4 inside: the guest only mounts it.
    const raw = join(data, 'probe.raw');
    await runTool('qemu-img', ['convert', '-f', 'qcow2', '-O', 'raw', file(), raw]);
    expect((await runTool('blkid', ['-o', 'value', '-s', 'TYPE', raw])).stdout.toString().trim()).toBe('ext4');
    await rm(raw);
    expect((await req('PUT', '/v1/volumes/data1', { sizeMiB: 32 })).body).toMatchObject({ code: 'STORMD_ERR_VOLUME_EXISTS' });
    expect((await req('PUT', '/v1/volumes/Bad_Name', { sizeMiB: 32 })).status).toBe(400);
  });

  it('attaches to a defined, stopped domain, and every later define keeps it after the stack', async () => {
    const attached = await req('PUT', `/v1/instances/${a}/volumes/data1`, { serial: 'storm-vol-data1' });
    expect(attached).toMatchObject({ status: 200, body: { name: 'data1', serial: 'storm-vol-data1', live: false } });
    expect(await xml(a)).toContain('<serial>storm-vol-data1</serial>');
    expect((await define(a)).status).toBe(200); // what every lifecycle operation does
    const redefined = await xml(a);
    expect(redefined).toContain('<serial>storm-vol-data1</serial>');
    expect(redefined).toMatch(new RegExp(`<source file=['"]${file()}['"]/>\\s*<target dev=['"]vdaa['"]`));
    expect(redefined).toContain('storm.layers=vda:ro,vdb:rw ');
    // Idempotent.
    expect((await req('PUT', `/v1/instances/${a}/volumes/data1`, { serial: 'storm-vol-data1' })).status).toBe(200);
    expect(redefined.split('storm-vol-data1').length).toBe(2);
    const list = (await req('GET', '/v1/volumes')).body as VolumeStatus[];
    expect(list).toEqual([expect.objectContaining({ name: 'data1', attachedTo: [a] })]);
  });

  it('refuses a second instance, an unknown volume, and removal while attached', async () => {
    expect((await req('PUT', `/v1/instances/${b}/volumes/data1`, { serial: 'storm-vol-data1' })).body).toMatchObject({
      code: 'STORMD_ERR_VOLUME_IN_USE',
    });
    expect((await req('PUT', `/v1/instances/${b}/volumes/nothing`, { serial: 'x' })).body).toMatchObject({
      code: 'STORMD_ERR_VOLUME_NOT_FOUND',
    });
    expect((await req('DELETE', '/v1/volumes/data1')).body).toMatchObject({ code: 'STORMD_ERR_VOLUME_IN_USE' });
    expect(await xml(b)).not.toContain('storm-vol-data1');
    // A domain still holding the disk (a guest that has not let go of it) keeps it too.
    const listFile = join(data, 'instances', a, 'volumes.json');
    const saved = await readFile(listFile);
    await rm(listFile);
    expect((await req('DELETE', '/v1/volumes/data1')).body).toMatchObject({
      code: 'STORMD_ERR_VOLUME_IN_USE',
      message: expect.stringContaining('still a disk of a domain'),
    });
    await writeFile(listFile, saved);
  });

  it('detaches from the config, and a define no longer adds it', async () => {
    expect((await req('DELETE', `/v1/instances/${a}/volumes/data1`)).status).toBe(204);
    expect(await xml(a)).not.toContain('storm-vol-data1');
    expect((await define(a)).status).toBe(200);
    expect(await xml(a)).not.toContain('storm-vol-data1');
    expect((await req('DELETE', `/v1/instances/${a}/volumes/data1`)).status).toBe(204);
  });

  it('gives a running guest that cannot take a hot-plug the volume at its next start', async () => {
    // The test driver's domains live in this process only, so `virsh attach-device --live` cannot reach them.
    expect((await app.inject({ method: 'POST', url: `/v1/instances/${b}/actions`, payload: { action: 'start' } })).statusCode).toBe(200);
    const attached = await req('PUT', `/v1/instances/${b}/volumes/data1`, { serial: 'storm-vol-data1' });
    expect(attached).toMatchObject({ status: 200, body: { live: false } });
    expect(await xml(b)).not.toContain('storm-vol-data1'); // the running guest's devices
    expect((await app.inject({ method: 'POST', url: `/v1/instances/${b}/actions`, payload: { action: 'destroy' } })).statusCode).toBe(200);
    expect(await xml(b)).toContain('<serial>storm-vol-data1</serial>'); // its next start's
    expect((await req('DELETE', `/v1/instances/${b}/volumes/data1`)).status).toBe(204);
    expect(await xml(b)).not.toContain('storm-vol-data1');
  });

  it('keeps the volume when its instance goes, then removes it on request', async () => {
    expect((await req('PUT', `/v1/instances/${b}/volumes/data1`, { serial: 'storm-vol-data1' })).status).toBe(200);
    expect((await req('DELETE', `/v1/instances/${b}`)).status).toBe(204);
    expect((await req('GET', '/v1/volumes')).body).toEqual([expect.objectContaining({ name: 'data1', attachedTo: [] })]);
    expect((await req('DELETE', '/v1/volumes/data1')).status).toBe(204);
    await expect(stat(file())).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await req('DELETE', '/v1/volumes/data1')).status).toBe(204);
  });
});
