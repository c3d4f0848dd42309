import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StormdErr } from '../errors.js';
import { currentLayer, layerFilePath, layerFiles, layerNumber, pickLayers, reserveLayerNumber } from './writable-layers.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'storm-wl-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('writable layer files', () => {
  it('reads a legacy instance.qcow2 as w0, in place', async () => {
    const folder = join(dir, 'legacy');
    await mkdir(folder);
    await writeFile(join(folder, 'instance.qcow2'), '');
    const files = await layerFiles(folder);
    expect(files).toEqual([{ id: 'w0', n: 0, path: join(folder, 'instance.qcow2'), merged: false }]);
    expect(currentLayer(files)?.id).toBe('w0');
    expect(await reserveLayerNumber(folder, files)).toBe(1);
  });

  it('orders by number, never makes a merge result current, never reuses an id', async () => {
    const folder = join(dir, 'new');
    await mkdir(folder);
    expect(await layerFiles(folder)).toEqual([]);
    for (const merged of [false, false, false, true]) {
      const n = await reserveLayerNumber(folder, await layerFiles(folder));
      await writeFile(layerFilePath(folder, n, merged), '');
    }
    await writeFile(join(folder, 'writable', '.w9.qcow2.abcd.raw'), ''); // a partial file is no layer
    let files = await layerFiles(folder);
    expect(files.map((f) => `${f.id}${f.merged ? '*' : ''}`)).toEqual(['w0', 'w1', 'w2', 'w3*']);
    expect(currentLayer(files)?.id).toBe('w2');
    await rm(layerFilePath(folder, 3, true));
    files = await layerFiles(folder);
    expect(await reserveLayerNumber(folder, files)).toBe(4);
    expect((await readFile(join(folder, 'writable', 'next-id'), 'utf8')).trim()).toBe('5');
  });

  it('picks layers by id, naming the missing ones', async () => {
    const files = await layerFiles(join(dir, 'new'));
    expect(pickLayers('i1', files, ['w2', 'w0']).map((f) => f.id)).toEqual(['w2', 'w0']);
    let err: unknown;
    try {
      pickLayers('i1', files, ['w0', 'w7', 'w8']);
    } catch (e) {
      err = e;
    }
    expect(StormdErr.STORMD_ERR_WRITABLE_LAYER_NOT_FOUND.is(err) && err.details).toEqual({ missing: ['w7', 'w8'] });
    expect(() => pickLayers('i1', files, ['w0', 'w0'])).toThrow(/twice/);
    expect(() => layerNumber('w01')).toThrow(/not a writable layer id/);
  });
});
