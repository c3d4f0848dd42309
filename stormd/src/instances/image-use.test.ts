import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LibvirtDriver } from '../hypervisor/libvirt-driver.js';
import { LayerStore } from '../store/layer-store.js';
import { InstancesService } from './instances-service.js';

// A staged image, an instance's overlay on it (real qemu-img), and the layer store asking before it removes the image.
let data: string;
let driver: LibvirtDriver;
let store: LayerStore;
let instances: InstancesService;
let sha: string;

beforeAll(async () => {
  data = await mkdtemp(join(tmpdir(), 'stormd-image-use-'));
  execFileSync('qemu-img', ['create', '-f', 'qcow2', join(data, 'image.qcow2'), '8M'], { stdio: 'pipe' });
  const bytes = await readFile(join(data, 'image.qcow2'));
  sha = createHash('sha256').update(bytes).digest('hex');
  driver = new LibvirtDriver('test:///default', { pollMs: 20 });
  await driver.connect();
  store = new LayerStore(data);
  await store.init();
  instances = new InstancesService({ dataDir: data, driver, store });
  await instances.init();
  store.setUseCheck((p) => instances.usesFile(p));
  await store.stage(sha, { url: 'https://manager.test/x', size: bytes.length }, async () => Readable.from([bytes]));
});
afterAll(async () => {
  await driver.close();
  await rm(data, { recursive: true, force: true });
});

describe('a staged image under traditional instances', () => {
  it('is refused removal while an instance stands on it, and goes once the instance is removed', async () => {
    const status = await instances.createDisk('img-1', { name: 'vm1', image: sha, format: 'qcow2', sizeMiB: 16 });
    expect(status.hasLayer).toBe(true);
    await expect(store.remove(sha)).rejects.toMatchObject({ code: 'STORMD_ERR_LAYER_IN_USE' });
    await instances.remove('img-1');
    await store.remove(sha);
    expect(await store.has(sha)).toBe(false);
  });

  it('refuses a disk on an image the host has not staged', async () => {
    await expect(instances.createDisk('img-2', { name: 'vm2', image: 'b'.repeat(64), format: 'raw', sizeMiB: 16 })).rejects.toMatchObject({
      code: 'STORMD_ERR_LAYER_NOT_STAGED',
    });
  });
});
