import { chmod, lstat, mkdir, mkdtemp, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashTree, stageTree, walkTree } from './tree.js';

describe('tree', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tree-test-'));
    await mkdir(join(dir, 'src/etc/init.d'), { recursive: true });
    await writeFile(join(dir, 'src/etc/init.d/rcS'), '#!/bin/sh\n');
    await chmod(join(dir, 'src/etc/init.d/rcS'), 0o775);
    await writeFile(join(dir, 'src/etc/motd'), 'hi\n');
    await chmod(join(dir, 'src/etc/motd'), 0o600);
    await symlink('../run/resolv.conf', join(dir, 'src/etc/resolv.conf'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('walks in sorted order with types and executable bits', async () => {
    expect(await walkTree(join(dir, 'src'))).toEqual([
      { rel: 'etc', type: 'dir', executable: true },
      { rel: 'etc/init.d', type: 'dir', executable: true },
      { rel: 'etc/init.d/rcS', type: 'file', executable: true },
      { rel: 'etc/motd', type: 'file', executable: false },
      { rel: 'etc/resolv.conf', type: 'symlink', executable: false },
    ]);
  });

  it('fingerprints content and the executable bit, not other mode bits', async () => {
    const before = await hashTree(join(dir, 'src'));
    await chmod(join(dir, 'src/etc/motd'), 0o644);
    expect(await hashTree(join(dir, 'src'))).toBe(before);
    await chmod(join(dir, 'src/etc/motd'), 0o755);
    expect(await hashTree(join(dir, 'src'))).not.toBe(before);
    await chmod(join(dir, 'src/etc/motd'), 0o644);
    await writeFile(join(dir, 'src/etc/motd'), 'changed\n');
    expect(await hashTree(join(dir, 'src'))).not.toBe(before);
  });

  it('stages a copy with normalized modes and verbatim symlinks', async () => {
    await mkdir(join(dir, 'out'));
    await stageTree(join(dir, 'src'), join(dir, 'out'));
    expect((await lstat(join(dir, 'out/etc/init.d/rcS'))).mode & 0o7777).toBe(0o755);
    expect((await lstat(join(dir, 'out/etc/motd'))).mode & 0o7777).toBe(0o644);
    expect(await readlink(join(dir, 'out/etc/resolv.conf'))).toBe('../run/resolv.conf');
  });
});
