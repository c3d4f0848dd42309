import { lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTool } from '../exec.js';
import { fuseMount, openScratch, readerMountPoint } from './guest-fs.js';
import { sweepScratch } from './scratch-sweep.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'storm-sweep-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('sweepScratch', () => {
  it('unmounts, detaches and removes what a crash mid-merge left, and nothing else', async () => {
    const folder = join(dir, 'instances', 'i1');
    const work = join(folder, '.work-dead');
    await mkdir(join(work, 'layer-0.mnt'), { recursive: true });
    await mkdir(join(folder, 'writable'));
    await mkdir(join(folder, 'packages'));
    await writeFile(join(folder, 'writable', 'w0.qcow2'), 'layer');
    await writeFile(join(folder, 'writable', 'next-id'), '1\n');
    await writeFile(join(folder, 'writable', '.w1.qcow2.abcd.raw'), 'partial');
    await writeFile(join(folder, 'packages', '.partial-1234'), 'partial');
    const raw = join(work, 'layer-0.raw');
    await writeFile(raw, '');
    await truncate(raw, 16 * 1024 * 1024);
    await runTool('mkfs.ext4', ['-q', raw]);
    const loop = (await runTool('losetup', ['--find', '--show', '--read-only', raw])).stdout.toString().trim();
    await runTool('mount', ['-o', 'ro', loop, join(work, 'layer-0.mnt')]);

    await sweepScratch(join(dir, 'instances'));

    expect((await readFile('/proc/self/mountinfo', 'utf8')).includes(work)).toBe(false);
    const loops = (await runTool('losetup', ['--list', '--noheadings', '--output', 'BACK-FILE'])).stdout.toString();
    expect(loops.includes(work)).toBe(false);
    expect((await readdir(folder)).sort()).toEqual(['packages', 'writable']);
    expect((await readdir(join(folder, 'writable'))).sort()).toEqual(['next-id', 'w0.qcow2']);
    expect(await readdir(join(folder, 'packages'))).toEqual([]);
  });

  it('unmounts the fuse2fs mounts a work folder links to, and removes their mount points', async () => {
    const folder = join(dir, 'instances', 'i2');
    const work = join(folder, '.work-fuse');
    await mkdir(work, { recursive: true });
    const raw = join(work, 'layer-0.raw');
    await writeFile(raw, '');
    await truncate(raw, 16 * 1024 * 1024);
    await runTool('mkfs.ext4', ['-q', raw]);
    const image = await openScratch(raw);
    const mnt = await readerMountPoint();
    await symlink(mnt, join(work, 'layer-0.mnt'));
    await fuseMount(image, mnt);
    // The stormd that mounted it is gone; only the fuse2fs daemon holds the image now.
    await image.close();
    expect((await readFile('/proc/self/mountinfo', 'utf8')).includes(mnt)).toBe(true);

    await sweepScratch(join(dir, 'instances'));

    expect((await readFile('/proc/self/mountinfo', 'utf8')).includes(mnt)).toBe(false);
    expect(
      await lstat(mnt).then(
        () => 'left',
        () => 'gone',
      ),
    ).toBe('gone');
    expect(await readdir(folder)).toEqual([]);
  });

  it('is fine with no instances folder at all', async () => {
    await sweepScratch(join(dir, 'none'));
  });
});
