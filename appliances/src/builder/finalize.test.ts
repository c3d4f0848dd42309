import { execFile } from 'node:child_process';
import { lstat, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { layerSquashfsOptions, packLayer, removeJunk, sha256File, stageUpper } from './finalize.js';

const run = promisify(execFile);

describe('finalize', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'finalize-test-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function tree(files: Record<string, string>, root: string): Promise<void> {
    for (const [p, body] of Object.entries(files)) {
      await mkdir(join(root, p, '..'), { recursive: true });
      await writeFile(join(root, p), body);
    }
  }

  it('removes build leftovers, keeps folders and whiteouts', async () => {
    const up = join(dir, 'upper');
    await tree(
      {
        'var/log/apt/history.log': 'x',
        'var/cache/apt/pkgcache.bin': 'x',
        'var/lib/apt/lists/deb_Packages': 'x',
        'etc/passwd-': 'x',
        'etc/passwd': 'keep',
        'var/lib/dpkg/status-old': 'x',
        'var/cache/ldconfig/aux-cache': 'x',
        'srv/app': 'keep',
      },
      up,
    );
    await symlink('history.log', join(up, 'var/log/apt/current'));
    await run('mknod', [join(up, 'var/log/whiteout'), 'c', '0', '0']);
    await removeJunk(up, { whole: false });
    const left = (await readdir(up, { recursive: true })).sort();
    expect(left).toEqual([
      'etc',
      'etc/passwd',
      'srv',
      'srv/app',
      'var',
      'var/cache',
      'var/cache/apt',
      'var/cache/ldconfig',
      'var/lib',
      'var/lib/apt',
      'var/lib/apt/lists',
      'var/lib/dpkg',
      'var/log',
      'var/log/apt',
      'var/log/whiteout',
    ]);
    expect((await lstat(join(up, 'var/log/whiteout'))).isCharacterDevice()).toBe(true);
  });

  it('clears /dev, /run and /tmp of a whole root only', async () => {
    const root = join(dir, 'root');
    await tree({ 'dev/null-ish': '', 'run/lock/x': '', 'tmp/y': '', 'etc/hostname': 'h' }, root);
    await removeJunk(root, { whole: true });
    for (const d of ['dev', 'run', 'tmp']) expect(await readdir(join(root, d))).toEqual([]);
    expect(await readdir(join(root, 'etc'))).toEqual(['hostname']);
  });

  it('stages owners and devices, then packs the same bytes twice', async () => {
    const up = join(dir, 'upper2');
    await tree({ 'srv/owned': 'o', 'etc/conf': 'c' }, up);
    await run('chown', ['1234:4321', join(up, 'srv/owned')]);
    await run('mknod', ['-m', '000', join(up, 'etc/gone'), 'c', '0', '0']);
    await stageUpper(up, join(dir, 'stage'));
    expect((await lstat(join(dir, 'stage/srv/owned'))).uid).toBe(1234);
    expect((await lstat(join(dir, 'stage/etc/gone'))).isCharacterDevice()).toBe(true);
    await packLayer(join(dir, 'stage'), join(dir, 'a.squashfs'), 1_700_000_000);
    await stageUpper(up, join(dir, 'stage'));
    await packLayer(join(dir, 'stage'), join(dir, 'b.squashfs'), 1_700_000_000);
    expect(await sha256File(join(dir, 'a.squashfs'))).toBe(await sha256File(join(dir, 'b.squashfs')));
    const { stdout } = await run('unsquashfs', ['-lln', join(dir, 'a.squashfs')]);
    expect(stdout).toMatch(/^-rw-r--r-- 1234\/4321 +1 2023-11-14 22:13 squashfs-root\/srv\/owned$/m);
    expect(stdout).toMatch(/^c--------- 0\/0 +0, +0 2023-11-14 22:13 squashfs-root\/etc\/gone$/m);
  });

  it('keeps owners and xattrs in the image (no -all-root, no -no-xattrs), times fixed', () => {
    const opts = layerSquashfsOptions(5);
    expect(opts).not.toContain('-all-root');
    expect(opts).not.toContain('-no-xattrs');
    expect(opts.join(' ')).toContain('-mkfs-time 5 -all-time 5');
  });
});
