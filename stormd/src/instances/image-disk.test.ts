import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasSeed, seedIsoPath, writeSeedIso } from './cloud-seed.js';
import { createImageDisk, imageOf, overlayOn } from './image-disk.js';
import { imageBootSpec } from './image-spec.js';

let dir: string;
const chain = (path: string) =>
  JSON.parse(execFileSync('qemu-img', ['info', '--backing-chain', '--output=json', '-U', path]).toString()) as {
    filename: string;
    format: string;
    'virtual-size': number;
    'backing-filename'?: string;
    'backing-filename-format'?: string;
  }[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stormd-image-disk-'));
  execFileSync('qemu-img', ['create', '-f', 'raw', join(dir, 'image.raw'), '16M'], { stdio: 'pipe' });
  await mkdir(join(dir, 'i1', 'writable'), { recursive: true });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('a traditional instance disk', () => {
  it('is a 0600 qcow2 overlay on the image, backing format stated at every level, grown to the size asked', async () => {
    const folder = join(dir, 'i1');
    const w0 = join(folder, 'writable', 'w0.qcow2');
    await createImageDisk(folder, w0, {
      image: join(dir, 'image.raw'),
      sha256: 'a'.repeat(64),
      format: 'raw',
      firmware: 'bios',
      sizeMiB: 64,
    });
    expect((await stat(w0)).mode & 0o777).toBe(0o600);
    expect(await imageOf(folder)).toEqual({ sha256: 'a'.repeat(64), format: 'raw', firmware: 'bios' });
    const w1 = join(folder, 'writable', 'w1.qcow2');
    await overlayOn(w0, w1);
    expect((await stat(w1)).mode & 0o777).toBe(0o600);
    const levels = chain(w1);
    expect(levels.map((l) => [l.format, l['backing-filename-format'] ?? null])).toEqual([
      ['qcow2', 'qcow2'],
      ['qcow2', 'raw'],
      ['raw', null],
    ]);
    expect(levels[0]?.['virtual-size']).toBe(64 << 20);
    expect(levels[1]?.['backing-filename']).toBe(join(dir, 'image.raw'));
    // Before the guest writes, an overlay holds headers only.
    expect((await stat(w0)).blocks * 512).toBeLessThan(1 << 20);
  });

  it('gets its cloud-init seed on an ISO 9660 disk labelled cidata, booted by firmware beside it', async () => {
    const folder = join(dir, 'i1');
    expect(await hasSeed(folder)).toBe(false);
    await writeSeedIso(folder, {
      metaData: 'instance-id: i1\n',
      userData: '#cloud-config\nhostname: web1\n',
      networkConfig: 'version: 2\n',
    });
    const pvd = execFileSync('isoinfo', ['-d', '-i', seedIsoPath(folder)]).toString();
    expect(pvd).toMatch(/Volume id: cidata/);
    const listing = execFileSync('isoinfo', ['-R', '-f', '-i', seedIsoPath(folder)])
      .toString()
      .split('\n')
      .filter(Boolean)
      .sort();
    expect(listing).toEqual(['/meta-data', '/network-config', '/user-data']);
    expect(execFileSync('isoinfo', ['-R', '-x', '/user-data', '-i', seedIsoPath(folder)]).toString()).toBe(
      '#cloud-config\nhostname: web1\n',
    );
    const spec = imageBootSpec({
      instanceId: 'i1',
      uuid: '00000000-0000-4000-8000-000000000001',
      disk: join(folder, 'writable', 'w1.qcow2'),
      seed: seedIsoPath(folder),
      firmware: 'bios',
      memoryMiB: 256,
      vcpus: 1,
      consoleLog: join(folder, 'console.log'),
      nics: [],
    });
    expect(spec.boot).toBeUndefined();
    expect(spec.disks.map((d) => [d.format, d.readonly])).toEqual([
      ['qcow2', false],
      ['raw', true],
    ]);
  });
});
