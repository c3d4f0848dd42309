/**
 * The writable-layer and package routes through `inject`, over real layers (mkfs.ext4, qemu-img,
 * losetup, mount, mksquashfs) and libvirt's test:///default driver: statuses, errors, the domain's
 * disks and `storm.layers=` for a frozen stack, the depth bound, an instance made before stacks.
 * Booting such stacks for real: test/integration/stormd-layers.test.ts.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_STACK_DEPTH, type InstanceStatus, type PackageResponse, type WritableLayer, type WritableLayers } from '../../protocol.js';
import { runTool } from '../exec.js';
import { MAX_DISKS } from '../hypervisor/spec-check.js';
import { LibvirtDriver } from '../hypervisor/libvirt-driver.js';
import { domainDisks } from '../instances/domain-files.js';
import { createInstanceLayer, readInstanceFile } from '../instances/instance-layer.js';
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
const [kernel, initrd, os, appLayer] = ['kernel', 'initrd', 'os layer', 'app layer'].map(blob) as [string, string, string, string];

let data: string;
let app: FastifyInstance;
let driver: LibvirtDriver;
const id = `stack-${randomUUID().slice(0, 8)}`;
const legacy = `legacy-${randomUUID().slice(0, 8)}`;
const broken = `broken-${randomUUID().slice(0, 8)}`;

const req = async (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object) => {
  const res = await app.inject({ method, url, ...(payload ? { payload } : {}) });
  return {
    status: res.statusCode,
    body: res.body
      ? res.headers['content-type']?.toString().startsWith('application/json')
        ? (res.json() as unknown)
        : res.rawPayload
      : undefined,
  };
};
// libvirt redefines a domain in place only under the same uuid.
const uuids = new Map<string, string>();
const define = (instance: string, frozen?: string[], layers = [os, appLayer]) =>
  req('PUT', `/v1/instances/${instance}/domain`, {
    uuid: uuids.get(instance) ?? uuids.set(instance, randomUUID()).get(instance),
    memoryMiB: 64,
    vcpus: 1,
    boot: { kernel, initrd },
    layers,
    ...(frozen ? { frozen } : {}),
    nics: [],
  });
const ids = (body: unknown) => (body as WritableLayers).layers.map((l) => `${l.id}${l.current ? '*' : ''}`);

beforeAll(async () => {
  data = await mkdtemp(join(tmpdir(), 'stormd-stack-'));
  driver = new LibvirtDriver('test:///default', { pollMs: 20 });
  await driver.connect();
  const store = new LayerStore(data);
  await store.init();
  const instances = new InstancesService({ dataDir: data, driver, store });
  await instances.init();
  store.setUseCheck((p) => instances.usesFile(p));
  app = await buildStormdApp({
    hostInfo: async () => {
      throw new Error('not used');
    },
    store,
    instances,
    layerSource: {
      check: () => undefined,
      fetch: async (u) => Readable.from([blobs.get(/([0-9a-f]{64})/.exec(u)?.[1] ?? '') ?? Buffer.alloc(0)]),
    },
  });
  for (const sha of [kernel, initrd, os, appLayer])
    await store.stage(sha, { url: `https://m/${sha}`, size: blobs.get(sha)?.length ?? 0 }, (u) =>
      Promise.resolve(Readable.from([blobs.get(/([0-9a-f]{64})/.exec(u)?.[1] ?? '') ?? Buffer.alloc(0)])),
    );
});

afterAll(async () => {
  for (const i of [id, legacy, broken]) await app?.inject({ method: 'DELETE', url: `/v1/instances/${i}` });
  await app?.close();
  await driver?.close();
  if (data) await rm(data, { recursive: true, force: true });
});

describe('writable layers (inject, test:///default)', () => {
  it('says MAX_STACK_DEPTH is the disk bound', () => {
    expect(MAX_STACK_DEPTH).toBe(MAX_DISKS);
  });

  it('starts with w0 from PUT /layer, in writable/', async () => {
    expect((await req('GET', `/v1/instances/${id}/writable-layers`)).body).toMatchObject({ code: 'STORMD_ERR_INSTANCE_NOT_FOUND' });
    expect((await req('PUT', `/v1/instances/${id}/layer`, { name: 'web1', sizeMiB: 16 })).status).toBe(201);
    const list = await req('GET', `/v1/instances/${id}/writable-layers`);
    expect(list.status).toBe(200);
    expect(ids(list.body)).toEqual(['w0*']);
    expect(await readdir(join(data, 'instances', id, 'writable'))).toEqual(['next-id', 'w0.qcow2']);
    expect((await req('POST', `/v1/instances/${id}/writable-layers`, {})).status).toBe(201);
    expect((await req('PUT', `/v1/instances/${id}/layer`, { name: 'again' })).body).toMatchObject({ code: 'STORMD_ERR_LAYER_EXISTS' });
  });

  it('defines a stack with frozen layers read-only under the current one', async () => {
    const res = await define(id, ['w0']);
    expect(res).toMatchObject({ status: 200, body: { state: 'shutoff', hasLayer: true } });
    const xml = await driver.xml(`storm-${id}`);
    const w = (n: number) => join(data, 'instances', id, 'writable', `w${n}.qcow2`);
    expect(domainDisks(xml)).toEqual([
      { file: join(data, 'layers', os), readonly: true },
      { file: join(data, 'layers', appLayer), readonly: true },
      { file: w(0), readonly: true },
      { file: w(1), readonly: false },
    ]);
    expect(xml).toContain('storm.layers=vda:ro,vdb:ro,vdc:ro,vdd:rw');
    const status = (await req('GET', `/v1/instances/${id}`)).body as InstanceStatus;
    expect(status.layerBytes).toBe((await stat(w(0))).blocks * 512 + (await stat(w(1))).blocks * 512);
  });

  it('refuses unknown or current frozen layers and stacks deeper than the bound', async () => {
    const missing = await define(id, ['w0', 'w7']);
    expect(missing).toMatchObject({ status: 404, body: { code: 'STORMD_ERR_WRITABLE_LAYER_NOT_FOUND', details: { missing: ['w7'] } } });
    expect(await define(id, ['w1'])).toMatchObject({ status: 409, body: { code: 'STORMD_ERR_LAYER_CURRENT' } });
    expect((await define(id, ['w0', 'w0'])).status).toBe(400);
    const tooDeep = await define(
      id,
      ['w0', 'w2'],
      Array.from({ length: 24 }, () => os),
    );
    expect(tooDeep).toMatchObject({ status: 400, body: { code: 'STORMD_ERR_STACK_TOO_DEEP', details: { depth: 27, max: 26 } } });
    expect(tooDeep.body).toMatchObject({ message: expect.stringMatching(/24 image \+ 2 frozen \+ 1 writable = 27 layers, at most 26/) });
  });

  it('while the domain runs: no new layer, no merge or package of what it writes, frozen ones merge', async () => {
    expect((await req('POST', `/v1/instances/${id}/actions`, { action: 'start' })).body).toEqual({ state: 'running' });
    expect(await req('POST', `/v1/instances/${id}/writable-layers`, {})).toMatchObject({
      status: 409,
      body: { code: 'STORMD_ERR_DOMAIN_STATE' },
    });
    expect(await req('POST', `/v1/instances/${id}/packages`, { layers: ['w0', 'w1'] })).toMatchObject({
      status: 409,
      body: { code: 'STORMD_ERR_DOMAIN_STATE' },
    });
    expect(await req('POST', `/v1/instances/${id}/writable-layers/merge`, { layers: ['w1'] })).toMatchObject({
      status: 409,
      body: { code: 'STORMD_ERR_LAYER_CURRENT' },
    });
    const merged = await req('POST', `/v1/instances/${id}/writable-layers/merge`, { layers: ['w0'] });
    expect(merged).toMatchObject({ status: 201, body: { id: 'w2', current: false } });
    expect((merged.body as WritableLayer).bytes).toBeGreaterThan(0);
    expect(await req('DELETE', `/v1/instances/${id}/writable-layers/w0`)).toMatchObject({
      status: 409,
      body: { code: 'STORMD_ERR_LAYER_IN_USE' },
    });
    expect((await req('POST', `/v1/instances/${id}/actions`, { action: 'destroy' })).body).toEqual({ state: 'shutoff' });
  });

  it('swaps in the merged layer, deletes the old one, never reuses an id', async () => {
    expect(ids((await req('GET', `/v1/instances/${id}/writable-layers`)).body)).toEqual(['w0', 'w1*', 'w2']);
    expect((await define(id, ['w2'])).status).toBe(200);
    expect((await req('DELETE', `/v1/instances/${id}/writable-layers/w0`)).status).toBe(204);
    expect((await req('DELETE', `/v1/instances/${id}/writable-layers/w0`)).status).toBe(204);
    expect((await req('DELETE', `/v1/instances/${id}/writable-layers/nope`)).status).toBe(400);
    expect(ids((await req('POST', `/v1/instances/${id}/writable-layers`, { sizeMiB: 8 })).body)).toEqual(['w1', 'w2', 'w3*']);
    // Undo of a failed checkpoint: the newest goes, the one below is current again, its id stays used.
    expect((await req('DELETE', `/v1/instances/${id}/writable-layers/w3`)).status).toBe(204);
    expect(ids((await req('GET', `/v1/instances/${id}/writable-layers`)).body)).toEqual(['w1*', 'w2']);
    expect(ids((await req('POST', `/v1/instances/${id}/writable-layers`, {})).body)).toEqual(['w1', 'w2', 'w4*']);
  });

  it('seeds a new layer with files and with paths copied from the stack as it stands', async () => {
    expect((await define(id, ['w2', 'w1'])).status).toBe(200); // current w4 on top of w1 on w2 (w0's content)
    const res = await req('POST', `/v1/instances/${id}/writable-layers`, {
      files: { '/etc/storm/extra': { contentBase64: Buffer.from('x').toString('base64') } },
      copyPaths: ['/etc/storm/instance.json', '/etc/not-there'],
    });
    expect(res.status).toBe(201);
    const w5 = join(data, 'instances', id, 'writable', 'w5.qcow2');
    expect(JSON.parse((await readInstanceFile(w5, 'upper/etc/storm/instance.json')).toString())).toEqual({ id, name: 'web1' });
    expect((await readInstanceFile(w5, 'upper/etc/storm/extra')).toString()).toBe('x');
    expect((await req('POST', `/v1/instances/${id}/writable-layers`, { copyPaths: ['etc/x'] })).status).toBe(400);
  });

  it('packages layers, serves the bytes, deletes them', async () => {
    const made = await req('POST', `/v1/instances/${id}/packages`, { layers: ['w2', 'w5'], exclude: ['/etc/storm/instance.json'] });
    expect(made.status).toBe(201);
    const { sha256, size } = made.body as PackageResponse;
    const got = await app.inject({ method: 'GET', url: `/v1/instances/${id}/packages/${sha256}` });
    expect(got.statusCode).toBe(200);
    expect(got.headers['content-type']).toBe('application/octet-stream');
    expect(got.rawPayload.length).toBe(size);
    expect(createHash('sha256').update(got.rawPayload).digest('hex')).toBe(sha256);
    const lls = join(data, 'pkg.squashfs');
    await writeFile(lls, got.rawPayload);
    const listing = (await runTool('unsquashfs', ['-lls', lls])).stdout.toString();
    expect(listing).toContain('squashfs-root/etc/storm/extra');
    expect(listing).not.toContain('instance.json');
    expect((await req('DELETE', `/v1/instances/${id}/packages/${sha256}`)).status).toBe(204);
    expect((await req('DELETE', `/v1/instances/${id}/packages/${sha256}`)).status).toBe(204);
    expect(await req('GET', `/v1/instances/${id}/packages/${sha256}`)).toMatchObject({
      status: 404,
      body: { code: 'STORMD_ERR_PACKAGE_NOT_FOUND' },
    });
    expect(await req('POST', `/v1/instances/${id}/packages`, { layers: ['w9'] })).toMatchObject({
      status: 404,
      body: { details: { missing: ['w9'] } },
    });
    expect((await req('POST', `/v1/instances/${id}/packages`, { layers: [] })).status).toBe(400);
    // Every package at once: what undoes a build whose answer was lost.
    const again = (await req('POST', `/v1/instances/${id}/packages`, { layers: ['w2'] })).body as PackageResponse;
    expect((await req('GET', `/v1/instances/${id}/packages/${again.sha256}`)).status).toBe(200);
    expect((await req('DELETE', `/v1/instances/${id}/packages`)).status).toBe(204);
    expect(await req('GET', `/v1/instances/${id}/packages/${again.sha256}`)).toMatchObject({ status: 404 });
    expect((await req('DELETE', `/v1/instances/${id}/packages`)).status).toBe(204);
    expect(await readdir(join(data, 'instances', id))).toEqual(expect.not.arrayContaining([expect.stringMatching(/^\.work-/)]));
  });

  it('keeps an instance made before stacks working: its instance.qcow2 is w0, in place', async () => {
    const folder = join(data, 'instances', legacy);
    await mkdir(folder, { mode: 0o755 });
    await createInstanceLayer(join(folder, 'instance.qcow2'), { id: legacy, name: 'old' }, { sizeMiB: 16 });
    expect((await req('GET', `/v1/instances/${legacy}`)).body).toMatchObject({ hasLayer: true });
    expect(ids((await req('GET', `/v1/instances/${legacy}/writable-layers`)).body)).toEqual(['w0*']);
    expect((await define(legacy)).status).toBe(200);
    expect(domainDisks(await driver.xml(`storm-${legacy}`)).at(-1)).toEqual({ file: join(folder, 'instance.qcow2'), readonly: false });
    expect(ids((await req('POST', `/v1/instances/${legacy}/writable-layers`, {})).body)).toEqual(['w0', 'w1*']);
    expect((await define(legacy, ['w0'])).status).toBe(200);
    expect(domainDisks(await driver.xml(`storm-${legacy}`)).slice(-2)).toEqual([
      { file: join(folder, 'instance.qcow2'), readonly: true },
      { file: join(folder, 'writable', 'w1.qcow2'), readonly: false },
    ]);
    expect((await runTool('qemu-img', ['info', join(folder, 'writable', 'w1.qcow2')])).stdout.toString()).toMatch(/virtual size: 16 MiB/);
  });

  it('leaves the stack as it was when a merge or package fails midway', async () => {
    expect((await req('PUT', `/v1/instances/${broken}/layer`, { name: 'b', sizeMiB: 16 })).status).toBe(201);
    expect((await req('POST', `/v1/instances/${broken}/writable-layers`, {})).status).toBe(201);
    const folder = join(data, 'instances', broken);
    await writeFile(join(folder, 'writable', 'w0.qcow2'), 'not a qcow2 any more');
    const before = (await req('GET', `/v1/instances/${broken}/writable-layers`)).body;
    expect(await req('POST', `/v1/instances/${broken}/writable-layers/merge`, { layers: ['w0'] })).toMatchObject({
      status: 500,
      body: { code: 'STORMD_ERR_TOOL_FAILED' },
    });
    expect(await req('POST', `/v1/instances/${broken}/packages`, { layers: ['w1', 'w0'] })).toMatchObject({
      status: 500,
      body: { code: 'STORMD_ERR_TOOL_FAILED' },
    });
    expect((await req('GET', `/v1/instances/${broken}/writable-layers`)).body).toEqual(before);
    expect(await readdir(folder)).toEqual(['writable']); // no scratch, no package folder
    expect((await readdir(join(folder, 'writable'))).sort()).toEqual(['next-id', 'w0.qcow2', 'w1.qcow2']);
  });
});
