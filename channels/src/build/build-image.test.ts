import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDescriptor } from '../format/descriptor.js';
import { renderDescriptor } from '../format/descriptor-write.js';
import { buildChannel } from './build.js';
import { generatePublisherKey } from './keys.js';

describe('buildChannel with a traditional (image) appliance', () => {
  let work: string;
  let keyPath: string;
  const manifest = (image: object) => ({
    name: 'disk-app',
    version: '1.0.0',
    title: 'Disk app',
    description: 'one disk image',
    released: '2024-01-01',
    memoryMiB: 128,
    vcpus: 1,
    image,
    parameters: [{ name: 'userData', type: 'string', default: '', description: 'cloud-init user-data' }],
  });
  const build = async (image: object) => {
    const src = join(work, `src-${Math.random().toString(36).slice(2)}`);
    await mkdir(join(src, '1.0.0'), { recursive: true });
    await writeFile(join(src, '1.0.0', 'manifest.json'), JSON.stringify(manifest(image)));
    return buildChannel({ src, out: join(src, 'out'), baseUrl: 'https://c.example/', keyPath, log: () => undefined });
  };
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'chan-image-'));
    keyPath = (await generatePublisherKey(join(work, 'key'))).privateKeyPath;
    execFileSync('qemu-img', ['create', '-f', 'qcow2', join(work, 'disk.qcow2'), '24M'], { stdio: 'pipe' });
    await copyFile(join(work, 'disk.qcow2'), join(work, 'disguised.raw'));
  });
  afterAll(() => rm(work, { recursive: true, force: true }));

  it('publishes the image under images/ with its format, firmware and the virtual size as minimum disk', async () => {
    const r = await build({ file: '../../disk.qcow2', format: 'qcow2' });
    const d = r.descriptors[0]!;
    expect(d.layers).toEqual([]);
    expect(d.image).toMatchObject({ format: 'qcow2', firmware: 'bios', minDiskMiB: 24 });
    expect(d.image?.url).toBe(`https://c.example/images/${d.image?.sha256}.qcow2`);
    const bytes = await readFile(join(r.feedPath, '..', 'appliances', 'disk-app', '1.0.0', 'appliance.xml'));
    expect(parseDescriptor(bytes)).toEqual(d);
    expect(renderDescriptor(d).equals(bytes)).toBe(true);
  });

  it('refuses an image that is not the format its manifest states', async () => {
    await expect(build({ file: '../../disguised.raw', format: 'raw' })).rejects.toThrow(/it is qcow2, not raw as stated/);
  });

  it('refuses a minimum disk below the image size, and a descriptor with both an image and layers', async () => {
    await expect(build({ file: '../../disk.qcow2', format: 'qcow2', minDiskMiB: 8 })).rejects.toThrow(/below the image's 24 MiB/);
    const r = await build({ file: '../../disk.qcow2', format: 'qcow2', minDiskMiB: 64, firmware: 'uefi' });
    const d = r.descriptors[0]!;
    expect(d.image).toMatchObject({ firmware: 'uefi', minDiskMiB: 64 });
    const xml = renderDescriptor(d)
      .toString()
      .replace(
        '<image ',
        '<layers><layer kind="appliance" format="squashfs" size="1" sha256="' +
          'a'.repeat(64) +
          '" url="https://c.example/x"/></layers><image ',
      );
    expect(() => parseDescriptor(xml)).toThrow(/a traditional appliance has its image and no layers/);
    const withVolume = renderDescriptor(d)
      .toString()
      .replace('</appliance>', '<dataVolume mountPoint="/srv/data" minSizeMiB="16"/></appliance>');
    expect(() => parseDescriptor(withVolume)).toThrow(/a traditional appliance declares no data volume yet/);
  });
});
