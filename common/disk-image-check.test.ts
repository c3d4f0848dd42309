import { execFileSync } from 'node:child_process';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectDiskImage, mibFor } from './disk-image-check.js';

let dir: string;
const img = (...args: string[]) => execFileSync('qemu-img', args, { cwd: dir, stdio: 'pipe' });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'disk-image-check-'));
  img('create', '-f', 'qcow2', join(dir, 'plain.qcow2'), '16M');
  img('create', '-f', 'raw', join(dir, 'plain.raw'), '4M');
  await writeFile(join(dir, 'secret'), 'host file\n');
  // A backing file naming a host file: made with -u, since the host file is no image.
  img('create', '-f', 'qcow2', '-u', '-F', 'raw', '-b', join(dir, 'secret'), join(dir, 'backed.qcow2'), '16M');
  img('create', '-f', 'qcow2', '-o', `data_file=${join(dir, 'data.raw')}`, join(dir, 'data-file.qcow2'), '16M');
  // A qcow2 shipped under a raw name: a guest writing qcow2 headers into a raw disk looks the same.
  await copyFile(join(dir, 'plain.qcow2'), join(dir, 'disguised.raw'));
});

afterAll(() => rm(dir, { recursive: true, force: true }));

describe('inspectDiskImage', () => {
  it('takes a standalone qcow2 and raw image as stated, with their virtual size', async () => {
    expect(await inspectDiskImage(join(dir, 'plain.qcow2'), 'qcow2')).toEqual({ ok: true, format: 'qcow2', virtualSize: 16 << 20 });
    expect(await inspectDiskImage(join(dir, 'plain.raw'), 'raw')).toEqual({ ok: true, format: 'raw', virtualSize: 4 << 20 });
  });

  it('refuses a qcow2 whose backing file names a host file', async () => {
    const r = await inspectDiskImage(join(dir, 'backed.qcow2'), 'qcow2');
    expect(r).toEqual({ ok: false, reason: expect.stringMatching(/backing file/) });
  });

  it('refuses a qcow2 with an external data file', async () => {
    const r = await inspectDiskImage(join(dir, 'data-file.qcow2'), 'qcow2');
    expect(r).toEqual({ ok: false, reason: expect.stringMatching(/external data file/) });
  });

  it('refuses a file stated raw that is qcow2, and a raw file stated qcow2', async () => {
    expect(await inspectDiskImage(join(dir, 'disguised.raw'), 'raw')).toEqual({ ok: false, reason: 'it is qcow2, not raw as stated' });
    expect(await inspectDiskImage(join(dir, 'plain.raw'), 'qcow2')).toEqual({ ok: false, reason: 'it is raw, not qcow2 as stated' });
  });

  it('rounds sizes up to MiB', () => {
    expect(mibFor(1)).toBe(1);
    expect(mibFor(2 << 20)).toBe(2);
  });
});
