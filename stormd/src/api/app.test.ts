/**
 * stormd's API through `inject` over real parts: the layer store on a temp folder, real instance
 * layers (mkfs.ext4, qemu-img), libvirt's test:///default driver. The TLS listener is covered in
 * test/integration/stormd-api.test.ts.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostInfo, InstanceStatus } from '../../protocol.js';
import { StormdErr } from '../errors.js';
import { collectHostInfo } from '../host/host-info.js';
import { LibvirtDriver } from '../hypervisor/libvirt-driver.js';
import { InstancesService } from '../instances/instances-service.js';
import { LayerStore } from '../store/layer-store.js';
import { buildStormdApp } from './app.js';

const blobs = new Map<string, Buffer>();
function blob(text: string): string {
  const b = Buffer.from(text);
  const sha = createHash('sha256').update(b).digest('hex');
  blobs.set(sha, b);
  return sha;
}
const kernel = blob('kernel');
const initrd = blob('initrd');
const os = blob('os layer');
const appLayer = blob('app layer');
const ORIGIN = 'https://manager.test:8443';
const url = (sha: string) => `${ORIGIN}/api/v1/images/${sha}/blob`;

let data: string;
let app: FastifyInstance;
let driver: LibvirtDriver;
let fetches = 0;
const id = `api-${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  data = await mkdtemp(join(tmpdir(), 'stormd-app-'));
  driver = new LibvirtDriver('test:///default', { pollMs: 20 });
  await driver.connect();
  const store = new LayerStore(data);
  await store.init();
  const instances = new InstancesService({ dataDir: data, driver, store });
  await instances.init();
  store.setUseCheck((p) => instances.usesFile(p));
  app = await buildStormdApp({
    hostInfo: () => collectHostInfo({ driver, store, instances, host: { hostId: 'h-1', name: 'host-1' } }),
    store,
    instances,
    layerSource: {
      check: (u) => {
        if (!u.startsWith(`${ORIGIN}/`)) throw StormdErr.STORMD_ERR_URL_REFUSED(u);
      },
      fetch: async (u) => {
        fetches += 1;
        const sha = /images\/([0-9a-f]{64})\/blob/.exec(u)?.[1] ?? '';
        return Readable.from([blobs.get(sha) ?? Buffer.from('nope')]);
      },
    },
  });
});

afterAll(async () => {
  await app?.inject({ method: 'DELETE', url: `/v1/instances/${id}` });
  await app?.close();
  await driver?.close();
  await rm(data, { recursive: true, force: true });
});

const stage = (sha: string, size = blobs.get(sha)?.length ?? 0, u = url(sha)) =>
  app.inject({ method: 'PUT', url: `/v1/layers/${sha}`, payload: { url: u, size } });

describe('stormd API (inject, test:///default)', () => {
  it('reports the host', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/host' });
    expect(res.statusCode).toBe(200);
    const info = res.json<HostInfo>();
    expect(info).toMatchObject({
      hostId: 'h-1',
      name: 'host-1',
      hypervisor: { uri: 'test:///default', domainType: 'test' },
      layers: [],
      instances: 0,
    });
    expect(info.cpus).toBeGreaterThan(0);
    // test:///default: node memory minus its running sample domain "test".
    expect(info.freeMemoryMiB).toBeLessThan(info.memoryMiB);
  });

  it('stages layers once, refuses off-origin URLs and corrupt bytes', async () => {
    for (const sha of [kernel, initrd, os, appLayer]) expect((await stage(sha)).json()).toMatchObject({ sha256: sha, staged: true });
    const before = fetches;
    expect((await stage(os)).json()).toMatchObject({ staged: false });
    expect(fetches).toBe(before);

    const off = await stage(os, 8, 'https://elsewhere.test/x');
    expect(off.statusCode).toBe(400);
    expect(off.json()).toMatchObject({ code: 'STORMD_ERR_URL_REFUSED' });

    const wrong = 'a'.repeat(64);
    const bad = await stage(wrong, 4, url(wrong));
    expect(bad.statusCode).toBe(502);
    expect(bad.json()).toMatchObject({ code: 'STORMD_ERR_LAYER_MISMATCH' });
    expect((await readdir(join(data, 'layers'))).sort()).toEqual([kernel, initrd, os, appLayer].sort());
  });

  it('validates bodies and params', async () => {
    expect(
      (await app.inject({ method: 'PUT', url: `/v1/layers/${os}`, payload: { url: url(os), size: 1, extra: true } })).json(),
    ).toMatchObject({ code: 'STORMD_ERR_BAD_INPUT' });
    expect((await app.inject({ method: 'PUT', url: '/v1/layers/XYZ', payload: { url: url(os), size: 1 } })).statusCode).toBe(400);
    expect((await app.inject({ method: 'GET', url: '/v1/instances/..%2Fetc' })).statusCode).toBe(400);
    expect((await app.inject({ method: 'GET', url: '/v1/nope' })).json()).toMatchObject({ code: 'STORMD_ERR_ROUTE_NOT_FOUND' });
  });

  it('creates the instance layer, refuses a second one', async () => {
    const payload = {
      name: 'web1',
      sizeMiB: 16,
      files: { '/etc/storm/token': { contentBase64: Buffer.from('secret').toString('base64'), mode: 0o600 } },
    };
    const res = await app.inject({ method: 'PUT', url: `/v1/instances/${id}/layer`, payload });
    expect(res.statusCode).toBe(201);
    expect(res.json<InstanceStatus>()).toMatchObject({ id, domain: `storm-${id}`, state: 'absent', hasLayer: true });
    expect((await app.inject({ method: 'PUT', url: `/v1/instances/${id}/layer`, payload })).json()).toMatchObject({
      code: 'STORMD_ERR_LAYER_EXISTS',
    });
  });

  it('names the layers that are not staged', async () => {
    const missing = 'b'.repeat(64);
    const res = await app.inject({
      method: 'PUT',
      url: `/v1/instances/${id}/domain`,
      payload: { uuid: randomUUID(), memoryMiB: 64, vcpus: 1, boot: { kernel, initrd }, layers: [os, missing], nics: [] },
    });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ code: 'STORMD_ERR_LAYER_NOT_STAGED', details: { missing: [missing] } });
  });

  it('defines, starts, stops and lists; refuses to delete a layer in use', async () => {
    const def = await app.inject({
      method: 'PUT',
      url: `/v1/instances/${id}/domain`,
      payload: {
        uuid: randomUUID(),
        memoryMiB: 64,
        vcpus: 1,
        boot: { kernel, initrd },
        layers: [os, appLayer],
        nics: [{ mac: '52:54:00:00:00:01', bridge: 'br-storm' }],
        metadata: { owner: 'test' },
      },
    });
    expect(def.statusCode).toBe(200);
    expect(def.json()).toMatchObject({ state: 'shutoff', hasLayer: true });
    const xml = await driver.xml(`storm-${id}`);
    expect(xml).toContain(join(data, 'layers', os));
    expect(xml).toContain('storm.layers=vda:ro,vdb:ro,vdc:rw');

    expect((await app.inject({ method: 'POST', url: `/v1/instances/${id}/actions`, payload: { action: 'start' } })).json()).toEqual({
      state: 'running',
    });
    const host = (await app.inject({ method: 'GET', url: '/v1/host' })).json<HostInfo>();
    expect(host.allocatedMemoryMiB).toBe(64);
    expect(host.instances).toBe(1);

    const inUse = await app.inject({ method: 'DELETE', url: `/v1/layers/${os}` });
    expect(inUse.statusCode).toBe(409);
    expect(inUse.json()).toMatchObject({ code: 'STORMD_ERR_LAYER_IN_USE' });

    expect(
      (await app.inject({ method: 'POST', url: `/v1/instances/${id}/actions`, payload: { action: 'stop', timeoutMs: 5000 } })).json(),
    ).toEqual({ state: 'shutoff', outcome: 'graceful' });
    const list = (await app.inject({ method: 'GET', url: '/v1/instances' })).json<InstanceStatus[]>();
    expect(list.filter((s) => s.id === id)).toEqual([expect.objectContaining({ state: 'shutoff', hasLayer: true })]);
    expect(list.some((s) => s.domain === 'test')).toBe(false);
  });

  it('tails the console log, capped', async () => {
    expect((await app.inject({ method: 'GET', url: `/v1/instances/${id}/console` })).json()).toEqual({ text: '', size: 0, offset: 0 });
    // The test driver runs no guest; write what a serial port would have.
    await writeFile(join(data, 'instances', id, 'console.log'), 'firmware\nlinux\nlogin: ');
    expect((await app.inject({ method: 'GET', url: `/v1/instances/${id}/console?bytes=7` })).json()).toEqual({
      text: 'login: ',
      size: 22,
      offset: 15,
    });
    expect((await app.inject({ method: 'GET', url: `/v1/instances/${id}/console?bytes=99999999` })).statusCode).toBe(400);
    expect((await app.inject({ method: 'GET', url: '/v1/instances/ghost/console' })).json()).toMatchObject({
      code: 'STORMD_ERR_INSTANCE_NOT_FOUND',
    });
  });

  it('shows drift: a domain without a layer folder, and a layer without a domain', async () => {
    await app.inject({ method: 'DELETE', url: `/v1/instances/${id}/domain` });
    let list = (await app.inject({ method: 'GET', url: '/v1/instances' })).json<InstanceStatus[]>();
    expect(list.find((s) => s.id === id)).toMatchObject({ state: 'absent', hasLayer: true });
    await app.inject({
      method: 'PUT',
      url: `/v1/instances/${id}/domain`,
      payload: { uuid: randomUUID(), memoryMiB: 64, vcpus: 1, boot: { kernel, initrd }, layers: [os], nics: [] },
    });
    await rm(join(data, 'instances', id), { recursive: true });
    list = (await app.inject({ method: 'GET', url: '/v1/instances' })).json<InstanceStatus[]>();
    expect(list.find((s) => s.id === id)).toMatchObject({ state: 'shutoff', hasLayer: false, layerBytes: 0 });
  });

  it('removes everything, idempotently, after which the layer can go', async () => {
    expect((await app.inject({ method: 'DELETE', url: `/v1/instances/${id}` })).statusCode).toBe(204);
    expect((await app.inject({ method: 'DELETE', url: `/v1/instances/${id}` })).statusCode).toBe(204);
    expect((await driver.list()).some((d) => d.name === `storm-${id}`)).toBe(false);
    await expect(stat(join(data, 'instances', id))).rejects.toThrow();
    expect((await app.inject({ method: 'GET', url: `/v1/instances/${id}` })).statusCode).toBe(404);
    expect((await app.inject({ method: 'DELETE', url: `/v1/layers/${os}` })).statusCode).toBe(204);
    expect((await app.inject({ method: 'GET', url: '/v1/host' })).json<HostInfo>().layers.map((l) => l.sha256)).not.toContain(os);
  });
});
