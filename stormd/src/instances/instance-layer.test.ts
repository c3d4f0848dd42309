import { chown, mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StormdErr } from '../errors.js';
import { runTool } from '../exec.js';
import { createInstanceLayer, listInstanceDir, readInstanceFile, removeInstanceLayer, seedFiles } from './instance-layer.js';

describe('instance layer (real mkfs.ext4, qemu-img, debugfs)', () => {
  let dir: string;
  let layer: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'storm-layer-test-'));
    layer = join(dir, 'instance.qcow2');
    await createInstanceLayer(
      layer,
      { id: 'i-0001', name: 'web1', files: { '/etc/storm/extra.conf': { content: 'x=1\n', mode: 0o600 } } },
      { sizeMiB: 32 },
    );
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is a qcow2 with the requested virtual size and leaves no temporary files', async () => {
    const info = JSON.parse((await runTool('qemu-img', ['info', '--output=json', layer])).stdout.toString()) as {
      format: string;
      'virtual-size': number;
    };
    expect(info.format).toBe('qcow2');
    expect(info['virtual-size']).toBe(32 * 1024 * 1024);
    expect(await readdir(dir)).toEqual(['instance.qcow2']);
  });

  it('holds a clean ext4 on the whole disk with upper/ and work/ at its root', async () => {
    expect(await listInstanceDir(layer, '/')).toEqual(expect.arrayContaining(['upper', 'work']));
    expect(await listInstanceDir(layer, 'work')).toEqual([]);
    const raw = join(dir, 'check.raw');
    try {
      await runTool('qemu-img', ['convert', '-f', 'qcow2', '-O', 'raw', layer, raw]);
      const blkid = (await runTool('blkid', ['-o', 'export', raw])).stdout.toString();
      expect(blkid).toMatch(/^TYPE=ext4$/m);
      expect(blkid).toMatch(/^LABEL=storm-instance$/m);
      await runTool('e2fsck', ['-fn', raw]); // exits non-zero on any inconsistency
    } finally {
      await rm(raw, { force: true });
    }
  });

  it("is a disk for the qemu group only (0660, its folder's group), while the guest's files stay root:root", async () => {
    const shared = join(dir, 'shared');
    await mkdir(shared, { mode: 0o710 });
    await chown(shared, 0, 64055);
    const disk = join(shared, 'w0.qcow2');
    await createInstanceLayer(
      disk,
      { id: 'i-0002', name: 'web2', files: { '/etc/storm/token': { content: 'secret\n', mode: 0o600 } } },
      { sizeMiB: 16 },
    );
    const s = await stat(disk);
    expect([s.mode & 0o777, s.uid, s.gid]).toEqual([0o660, 0, 64055]);
    expect(await readdir(shared)).toEqual(['w0.qcow2']); // the private scratch is gone
    const raw = join(dir, 'owners.raw');
    try {
      await runTool('qemu-img', ['convert', '-f', 'qcow2', '-O', 'raw', disk, raw]);
      for (const path of ['/upper', '/upper/etc/storm', '/upper/etc/storm/token']) {
        const out = (await runTool('debugfs', ['-R', `stat ${path}`, raw])).stdout.toString();
        expect(out, path).toMatch(/User:\s+0\s+Group:\s+0\b/);
      }
    } finally {
      await rm(raw, { force: true });
    }
  });

  it('seeds the identity under upper/etc/storm/instance.json, and extra files', async () => {
    expect(JSON.parse((await readInstanceFile(layer, 'upper/etc/storm/instance.json')).toString())).toEqual({ id: 'i-0001', name: 'web1' });
    expect((await readInstanceFile(layer, '/upper/etc/storm/extra.conf')).toString()).toBe('x=1\n');
    expect(await listInstanceDir(layer, 'upper/etc/storm')).toEqual(['extra.conf', 'instance.json']);
  });

  it('says clearly when a file is missing or not a file', async () => {
    await expect(readInstanceFile(layer, 'upper/nope')).rejects.toSatisfy((e) => StormdErr.STORMD_ERR_LAYER_FILE_NOT_FOUND.is(e));
    await expect(readInstanceFile(layer, 'upper/etc')).rejects.toThrow(/not a regular file/);
    await expect(readInstanceFile(layer, 'upper/../../etc/passwd')).rejects.toSatisfy((e) => StormdErr.STORMD_ERR_BAD_INPUT.is(e));
  });

  it('refuses to overwrite an existing layer or to seed paths outside the root', async () => {
    await expect(createInstanceLayer(layer, { id: 'x', name: 'x' })).rejects.toSatisfy((e) => StormdErr.STORMD_ERR_LAYER_EXISTS.is(e));
    expect(() => seedFiles({ id: 'x', name: 'x', files: { '/etc/../../x': { content: '' } } })).toThrow(/plain absolute/);
    expect(() => seedFiles({ id: 'x', name: 'x', files: { 'etc/x': { content: '' } } })).toThrow(/plain absolute/);
  });

  it('cleans up its partial files when a tool fails', async () => {
    const sub = join(dir, 'fail');
    await runTool('mkdir', [sub]);
    // A 8 MiB disk cannot hold a 20 MiB seed file, so mkfs.ext4 -d fails.
    const big = new Uint8Array(20 * 1024 * 1024).fill(7);
    await expect(
      createInstanceLayer(join(sub, 'l.qcow2'), { id: 'x', name: 'x', files: { '/big': { content: big } } }, { sizeMiB: 8 }),
    ).rejects.toSatisfy((e) => StormdErr.STORMD_ERR_TOOL_FAILED.is(e));
    expect(await readdir(sub)).toEqual([]);
    await rm(sub, { recursive: true });
  });

  it('removes a layer, and removing it twice is fine', async () => {
    const other = join(dir, 'other.qcow2');
    await createInstanceLayer(other, { id: 'i2', name: 'two' }, { sizeMiB: 16 });
    await removeInstanceLayer(other);
    await removeInstanceLayer(other);
    await expect(stat(other)).rejects.toThrow();
  });
});
