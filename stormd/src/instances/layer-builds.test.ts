/**
 * Merged layers and packages from real writable layers (ext4 in qcow2, made by mkfs.ext4 -d with
 * whiteouts and opaque directories in `upper/`): qemu-img, e2fsck, losetup, mount, mkfs.ext4,
 * mksquashfs and unsquashfs for real. Nothing stays mounted or attached, even when a layer is bad.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTool } from '../exec.js';
import { ext4Qcow2FromTree, listInstanceDir, readInstanceFile } from './instance-layer.js';
import { buildMergedLayer, buildPackage } from './layer-builds.js';
import { withMountedLayers } from './layer-mount.js';
import { OPAQUE_XATTR } from './overlay-merge.js';
import { dumpXattrs } from './xattrs.js';

let dir: string;
let w0: string;
let w1: string;

async function layer(name: string, build: (upper: string) => Promise<void>): Promise<string> {
  const tree = join(dir, `${name}-tree`);
  await mkdir(join(tree, 'upper'), { recursive: true });
  await mkdir(join(tree, 'work'));
  await build(join(tree, 'upper'));
  const out = join(dir, `${name}.qcow2`);
  await ext4Qcow2FromTree(tree, out, { sizeMiB: 32, label: 'storm-instance' });
  return out;
}
const put = async (upper: string, path: string, content: string) => {
  await mkdir(dirname(join(upper, path)), { recursive: true });
  await writeFile(join(upper, path), content);
};

/** Loop devices backed by files under `dir` and mounts under it: both must be none after every build. */
async function leftovers(): Promise<string[]> {
  const loops = JSON.parse((await runTool('losetup', ['--list', '--json', '--output', 'NAME,BACK-FILE'])).stdout.toString() || '{}') as {
    loopdevices?: { 'back-file'?: string }[];
  };
  const mounts = (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').map((l) => l.split(' ')[4] ?? '');
  return [
    ...(loops.loopdevices ?? []).map((l) => l['back-file'] ?? '').filter((f) => f.startsWith(dir)),
    ...mounts.filter((m) => m.startsWith(dir)),
  ];
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'storm-builds-'));
  w0 = await layer('w0', async (u) => {
    await put(u, 'etc/storm/instance.json', '{"id":"i1","name":"web1"}\n');
    await put(u, 'etc/storm/token', 'secret\n');
    await put(u, 'etc/note', 'original\n');
    await put(u, 'var/lib/storm/boot-stamp', 'count=1\n');
  });
  w1 = await layer('w1', async (u) => {
    await put(u, 'etc/note', 'changed\n');
    await mkdir(join(u, 'etc/storm/layers'), { recursive: true });
    await runTool('mknod', [join(u, 'etc/storm/layers/hello-web'), 'c', '0', '0']);
    await mkdir(join(u, 'srv/hello-web/www'), { recursive: true });
    await runTool('setfattr', ['-n', OPAQUE_XATTR, '-v', 'y', join(u, 'srv/hello-web/www')]);
    await put(u, 'srv/hello-web/www/fresh.html', 'fresh\n');
    await put(u, 'var/lib/storm/boot-stamp', 'count=2\n');
  });
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('buildMergedLayer', () => {
  it('makes a frozen ext4 layer whose upper/ is the merge, whiteouts and opaque dirs kept', async () => {
    const work = join(dir, 'work-merge');
    await mkdir(work);
    const out = join(dir, 'w2.merged.qcow2');
    const t0 = performance.now();
    await buildMergedLayer([w0, w1], work, out);
    console.log(`merge of two small layers: ${Math.round(performance.now() - t0)} ms`);
    expect(await readdir(work)).toEqual(['image']); // scratch raw copies and mount points are gone
    expect((await readInstanceFile(out, 'upper/etc/note')).toString()).toBe('changed\n');
    expect((await readInstanceFile(out, 'upper/etc/storm/token')).toString()).toBe('secret\n');
    expect((await readInstanceFile(out, 'upper/var/lib/storm/boot-stamp')).toString()).toBe('count=2\n');
    expect(await listInstanceDir(out, 'upper/srv/hello-web/www')).toEqual(['fresh.html']);
    expect(await listInstanceDir(out, '/')).toEqual(expect.arrayContaining(['upper', 'work']));
    const check = join(dir, 'check-merge');
    await mkdir(check);
    await withMountedLayers([out], check, async ([root]) => {
      const wo = await runTool('stat', ['-c', '%F %t:%T', join(root as string, 'upper/etc/storm/layers/hello-web')]);
      expect(wo.stdout.toString().trim()).toBe('character special file 0:0');
      const attrs = await dumpXattrs([join(root as string, 'upper/srv/hello-web/www')]);
      expect(
        attrs
          .get(join(root as string, 'upper/srv/hello-web/www'))
          ?.get(OPAQUE_XATTR)
          ?.toString(),
      ).toBe('y');
    });
    const info = await runTool('qemu-img', ['info', '--output=json', out]);
    expect(JSON.parse(info.stdout.toString())).toMatchObject({ format: 'qcow2' });
    expect(await leftovers()).toEqual([]);
  });
});

describe('buildPackage', () => {
  it('makes a reproducible squashfs of the merge without the excluded paths', async () => {
    const exclude = ['/etc/storm/token', '/etc/storm/instance.json', '/var/lib/storm/boot-stamp', '/etc/hostname'];
    const outDir = join(dir, 'packages');
    const runs = [];
    for (const n of [1, 2]) {
      const work = join(dir, `work-package-${n}`);
      await mkdir(work);
      const t0 = performance.now();
      runs.push(await buildPackage([w0, w1], work, outDir, exclude));
      console.log(`package of two small layers: ${Math.round(performance.now() - t0)} ms`);
    }
    const [a, b] = runs as [{ sha256: string; size: number }, { sha256: string; size: number }];
    expect(b).toEqual(a);
    const file = join(outDir, `${a.sha256}.squashfs`);
    expect(
      createHash('sha256')
        .update(await readFile(file))
        .digest('hex'),
    ).toBe(a.sha256);
    expect(await readdir(outDir)).toEqual([`${a.sha256}.squashfs`]);
    const lls = (await runTool('unsquashfs', ['-lls', file])).stdout.toString();
    expect(lls).toMatch(/^c\S+ root\/root\s+0,\s+0 \S+ \S+ squashfs-root\/etc\/storm\/layers\/hello-web$/m);
    expect(lls).toContain('squashfs-root/etc/note');
    expect(lls).toContain('squashfs-root/srv/hello-web/www/fresh.html');
    for (const gone of ['token', 'instance.json', 'boot-stamp']) expect(lls).not.toContain(gone);
    const x = join(dir, 'unsquashed');
    await runTool('unsquashfs', ['-q', '-d', x, file]);
    expect(await readFile(join(x, 'etc/note'), 'utf8')).toBe('changed\n');
    expect((await dumpXattrs([join(x, 'srv/hello-web/www')])).get(join(x, 'srv/hello-web/www'))?.get(OPAQUE_XATTR)?.toString()).toBe('y');
    expect(await leftovers()).toEqual([]);
  });
});

describe('failures', () => {
  it('unmounts and detaches what it had when a later layer is bad', async () => {
    const bad = join(dir, 'bad.qcow2');
    await runTool('qemu-img', ['create', '-q', '-f', 'qcow2', bad, '16M']); // no filesystem at all
    const work = join(dir, 'work-bad');
    await mkdir(work);
    await expect(buildMergedLayer([w0, bad], work, join(dir, 'never.qcow2'))).rejects.toThrow(/e2fsck|mount/);
    expect(await leftovers()).toEqual([]);
    expect(await readdir(work)).toEqual([]);
    await expect(readdir(join(dir, 'never.qcow2'))).rejects.toThrow();
  });
});
