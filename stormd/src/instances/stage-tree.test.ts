import { lstat, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { excludeGuestPaths, guestPath, realDir, treeUsage } from './stage-tree.js';

let dir: string;
let root: string;
let outside: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'storm-stage-'));
  root = join(dir, 'root');
  outside = join(dir, 'outside');
  await mkdir(join(root, 'etc/storm'), { recursive: true });
  await mkdir(outside);
  await writeFile(join(outside, 'token'), 'host file');
  await writeFile(join(root, 'etc/storm/token'), 'guest token');
  await writeFile(join(root, 'etc/hostname'), 'web1');
  await mkdir(join(root, 'var/lib/storm'), { recursive: true });
  await writeFile(join(root, 'var/lib/storm/boot-stamp'), 'count=1');
  // A guest symlink pointing out of the tree (as an absolute guest path would, read on the host).
  await symlink(outside, join(root, 'evil'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('stage tree helpers', () => {
  it('checks guest paths', () => {
    expect(guestPath('/etc/x')).toBe('/etc/x');
    for (const bad of ['etc/x', '/etc/../x', '/', '/a//b', '/a"b']) expect(() => guestPath(bad)).toThrow(/plain absolute/);
  });

  it('excludes guest paths that are there, and never through a symlink', async () => {
    const removed = await excludeGuestPaths(root, [
      '/etc/storm/token',
      '/etc/hostname',
      '/evil/token',
      '/not/there',
      '/var/lib/storm/boot-stamp',
    ]);
    expect(removed).toEqual(['/etc/storm/token', '/etc/hostname', '/var/lib/storm/boot-stamp']);
    expect(await readFile(join(outside, 'token'), 'utf8')).toBe('host file');
    expect((await lstat(join(root, 'etc/storm'))).isDirectory()).toBe(true);
    expect((await lstat(join(root, 'evil'))).isSymbolicLink()).toBe(true);
  });

  it('makes a real directory where a guest symlink stood', async () => {
    const d = await realDir(root, 'evil/sub');
    expect(d).toBe(join(root, 'evil/sub'));
    expect((await lstat(join(root, 'evil'))).isDirectory()).toBe(true);
    expect(await readFile(join(outside, 'token'), 'utf8')).toBe('host file');
  });

  it('measures a tree', async () => {
    const u = await treeUsage(root);
    expect(u.entries).toBeGreaterThanOrEqual(6);
    expect(u.bytes).toBeGreaterThan(0);
  });
});
