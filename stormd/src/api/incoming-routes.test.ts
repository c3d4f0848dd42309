/**
 * `PUT /v1/instances/:id/incoming` (the target's side of a live migration) through `inject`, over
 * real qemu-img and libvirt's test:///default driver: the folder and the empty writable layer it
 * makes, the definition it answers, a repeat, and its refusals. The migration itself, on two real
 * libvirtds: test/integration/stormd-live-migration.test.ts.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IncomingInstanceResponse, WritableLayers } from '../../protocol.js';
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
const [kernel, initrd, os, unstaged] = ['kernel', 'initrd', 'os layer', 'not here'].map(blob) as [string, string, string, string];
const fetchBlob = async (u: string) => Readable.from([blobs.get(/([0-9a-f]{64})/.exec(u)?.[1] ?? '') ?? Buffer.alloc(0)]);

let data: string;
let app: FastifyInstance;
let driver: LibvirtDriver;
const id = `in-${randomUUID().slice(0, 8)}`;
const domain = { uuid: randomUUID(), memoryMiB: 64, vcpus: 1, boot: { kernel, initrd }, layers: [os], nics: [] };
const writable = { id: 'w3', virtualBytes: 32 * 1024 * 1024 };

const req = async (method: 'GET' | 'PUT' | 'DELETE', url: string, payload?: object) => {
  const res = await app.inject({ method, url, ...(payload ? { payload } : {}) });
  return { status: res.statusCode, body: res.body ? (res.json() as unknown) : undefined };
};

beforeAll(async () => {
  data = await mkdtemp(join(tmpdir(), 'stormd-incoming-'));
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
    layerSource: { check: () => undefined, fetch: fetchBlob },
  });
  for (const sha of [kernel, initrd, os]) await store.stage(sha, { url: `https://m/${sha}`, size: blobs.get(sha)?.length ?? 0 }, fetchBlob);
});

afterAll(async () => {
  await app?.inject({ method: 'DELETE', url: `/v1/instances/${id}` });
  await app?.close();
  await driver?.close();
  if (data) await rm(data, { recursive: true, force: true });
});

describe('PUT /v1/instances/:id/incoming (inject, test:///default)', () => {
  it('makes an empty writable layer of the source id and size and answers its own definition', async () => {
    const res = await req('PUT', `/v1/instances/${id}/incoming`, { domain, writable });
    expect(res.status).toBe(200);
    const { domainXml } = res.body as IncomingInstanceResponse;
    const folder = join(data, 'instances', id);
    expect(domainXml).toContain(`<source file="${join(folder, 'writable', 'w3.qcow2')}"/>`);
    expect(domainXml).toContain(`<source file="${join(data, 'layers', os)}"/>`);
    expect(domainXml).toContain(`<kernel>${join(data, 'layers', kernel)}</kernel>`);
    expect(domainXml).toContain(`<name>storm-${id}</name>`);
    expect(await readdir(join(folder, 'writable'))).toEqual(['next-id', 'w3.qcow2']);
    expect(await readFile(join(folder, 'writable', 'next-id'), 'utf8')).toBe('4\n');
    const { layers } = (await req('GET', `/v1/instances/${id}/writable-layers`)).body as WritableLayers;
    expect(layers).toMatchObject([{ id: 'w3', virtualBytes: writable.virtualBytes, current: true }]);
    // Nothing is defined: the migration defines it here when it ends.
    expect((await req('GET', `/v1/instances/${id}`)).body).toMatchObject({ state: 'absent', hasLayer: true });
    // A repeat (the manager retrying) answers the same.
    expect(await req('PUT', `/v1/instances/${id}/incoming`, { domain, writable })).toEqual(res);
  });

  it('refuses a different layer, frozen layers, an image instance and layers not staged', async () => {
    expect(
      (await req('PUT', `/v1/instances/${id}/incoming`, { domain, writable: { id: 'w4', virtualBytes: 1 << 20 } })).body,
    ).toMatchObject({
      code: 'STORMD_ERR_LAYER_EXISTS',
    });
    const other = `in-${randomUUID().slice(0, 8)}`;
    expect((await req('PUT', `/v1/instances/${other}/incoming`, { domain: { ...domain, frozen: ['w0'] }, writable })).body).toMatchObject({
      code: 'STORMD_ERR_BAD_INPUT',
    });
    const { boot: _boot, ...image } = domain;
    expect((await req('PUT', `/v1/instances/${other}/incoming`, { domain: { ...image, image: {} }, writable })).status).toBe(400);
    const missing = await req('PUT', `/v1/instances/${other}/incoming`, { domain: { ...domain, layers: [os, unstaged] }, writable });
    expect(missing).toMatchObject({ status: 404, body: { code: 'STORMD_ERR_LAYER_NOT_STAGED', details: { missing: [unstaged] } } });
    // A refusal leaves no folder behind.
    expect((await readdir(join(data, 'instances'))).filter((e) => e === other)).toEqual([]);
  });

  it('refuses an instance this host has a domain of', async () => {
    expect((await req('PUT', `/v1/instances/${id}/domain`, domain)).status).toBe(200);
    expect((await req('PUT', `/v1/instances/${id}/incoming`, { domain, writable })).body).toMatchObject({
      code: 'STORMD_ERR_DOMAIN_EXISTS',
    });
  });
});
