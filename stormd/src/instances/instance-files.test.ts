import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InstanceFiles } from './instance-files.js';

let dir: string;
let files: InstanceFiles;
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'storm-instance-files-'));
  files = new InstanceFiles(dir);
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('the files of an instance as a move carries them', () => {
  it('lists the writable layers and their mark with size and sha256, nothing else', async () => {
    await mkdir(join(dir, 'i1', 'writable'), { recursive: true });
    await writeFile(join(dir, 'i1', 'writable', 'w0.qcow2'), 'layer zero');
    await writeFile(join(dir, 'i1', 'writable', 'w1.merged.qcow2'), 'merged');
    await writeFile(join(dir, 'i1', 'writable', 'next-id'), '2\n');
    await writeFile(join(dir, 'i1', 'console.log'), 'serial');
    await writeFile(join(dir, 'i1', 'writable', '.next-id.tmp'), 'x');
    expect((await files.list('i1')).files).toEqual([
      { path: 'writable/next-id', size: 2, sha256: sha('2\n') },
      { path: 'writable/w0.qcow2', size: 10, sha256: sha('layer zero') },
      { path: 'writable/w1.merged.qcow2', size: 6, sha256: sha('merged') },
    ]);
    await expect(files.list('i2')).rejects.toMatchObject({ code: 'STORMD_ERR_INSTANCE_NOT_FOUND' });
  });

  it('keeps a received file only when its size and sha256 are the stated ones', async () => {
    const body = Buffer.from('the bytes of a layer');
    const want = { path: 'writable/w0.qcow2', size: body.length, sha256: sha(body) };
    await expect(files.receive('i1', { ...want, sha256: sha('other') }, Readable.from([body]))).rejects.toMatchObject({
      code: 'STORMD_ERR_LAYER_MISMATCH',
    });
    await expect(files.receive('i1', { ...want, size: 4 }, Readable.from([body]))).rejects.toMatchObject({
      code: 'STORMD_ERR_LAYER_MISMATCH',
    });
    expect(await readdir(join(dir, 'i1', 'writable'))).toEqual([]);
    expect(await files.receive('i1', want, Readable.from([body]))).toEqual(want);
    expect(await readFile(join(dir, 'i1', 'writable', 'w0.qcow2'))).toEqual(body);
  });

  it('refuses a path outside what a move carries', async () => {
    for (const path of ['../i2/writable/w0.qcow2', 'console.log', 'writable/w0.qcow2/../../x'])
      await expect(files.open('i1', path)).rejects.toMatchObject({ code: 'STORMD_ERR_BAD_INPUT' });
  });

  it("lists a replica's frozen layers: every layer file but the current one, no mark", async () => {
    await mkdir(join(dir, 'i1', 'writable'), { recursive: true });
    await writeFile(join(dir, 'i1', 'writable', 'w0.qcow2'), 'frozen zero');
    await writeFile(join(dir, 'i1', 'writable', 'w1.merged.qcow2'), 'merged');
    await writeFile(join(dir, 'i1', 'writable', 'w2.qcow2'), 'current');
    await writeFile(join(dir, 'i1', 'writable', 'next-id'), '3\n');
    expect((await files.frozen('i1')).files).toEqual([
      { path: 'writable/w0.qcow2', size: 11, sha256: sha('frozen zero') },
      { path: 'writable/w1.merged.qcow2', size: 6, sha256: sha('merged') },
    ]);
    expect(await files.isCurrent('i1', 'writable/w2.qcow2')).toBe(true);
    expect(await files.isCurrent('i1', 'writable/w0.qcow2')).toBe(false);
    expect((await files.frozen('i2')).files).toEqual([]);
  });
});
