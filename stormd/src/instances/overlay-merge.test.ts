/**
 * The merge against the kernel's own overlayfs: upper trees made with mknod and setfattr (whiteouts,
 * opaque directories, xattrs, hard links, a directory over a file), merged, then the union of
 * `uppers… over image` and of `merged over image` are mounted read-only and must list the same.
 */
import { createHash } from 'node:crypto';
import { chmod, link, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTool } from '../exec.js';
import { mergeUppers, OPAQUE_XATTR } from './overlay-merge.js';
import { dumpXattrs } from './xattrs.js';

let root: string;
const mounts: string[] = [];

const file = async (base: string, path: string, content: string, mode = 0o644) => {
  await mkdir(dirname(join(base, path)), { recursive: true });
  await writeFile(join(base, path), content);
  await chmod(join(base, path), mode);
};
const dir = (base: string, path: string) => mkdir(join(base, path), { recursive: true });
const whiteout = async (base: string, path: string) => {
  await mkdir(dirname(join(base, path)), { recursive: true });
  await runTool('mknod', [join(base, path), 'c', '0', '0']);
};
const xattr = (base: string, path: string, name: string, value: string) =>
  runTool('setfattr', ['-h', '-n', name, '-v', value, join(base, path)]);
const opaque = async (base: string, path: string) => {
  await dir(base, path);
  await xattr(base, path, OPAQUE_XATTR, 'y');
};

/**
 * Every entry of a tree: type, mode, owner, size, content hash or link target or device, xattrs,
 * mtime. Not st_nlink: overlayfs reports a lower inode's own count, links another layer shadows
 * included, which a merge cannot keep (hard links themselves are checked apart). A directory only one lower layer has is passed through by overlayfs, whiteouts and all:
 * readdir shows them, lookup says ENOENT; both unions do that alike, so such names are skipped.
 */
async function listing(top: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const entries: [string, string][] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const name of (await readdir(join(top, rel))).sort()) {
      const r = `${rel}/${name}`;
      const p = join(top, r);
      const s = await lstat(p).catch(() => undefined);
      if (!s) continue;
      let what = `${(s.mode & 0o170000).toString(8)} ${(s.mode & 0o7777).toString(8)} ${s.uid}:${s.gid} mtime=${Math.floor(s.mtimeMs)}`;
      if (s.isFile())
        what += ` size=${s.size} sha=${createHash('sha256')
          .update(await readFile(p))
          .digest('hex')
          .slice(0, 12)}`;
      if (s.isSymbolicLink()) what += ` -> ${await readlink(p)}`;
      if (s.isCharacterDevice() || s.isBlockDevice()) what += ` rdev=${s.rdev}`;
      entries.push([r, what]);
      if (s.isDirectory()) await walk(r);
    }
  };
  await walk('');
  const xattrs = await dumpXattrs(entries.map(([r]) => join(top, r)));
  for (const [r, what] of entries) {
    const attrs = [...(xattrs.get(join(top, r)) ?? new Map<string, Buffer>())].map(([k, v]) => `${k}=${v.toString('hex')}`).sort();
    out[r] = attrs.length ? `${what} xattrs=${attrs.join(',')}` : what;
  }
  return out;
}

async function overlay(name: string, lowerTopFirst: readonly string[]): Promise<string> {
  const mnt = join(root, `mnt-${name}`);
  await mkdir(mnt);
  await runTool('mount', [
    '-t',
    'overlay',
    'overlay',
    '-o',
    `lowerdir=${lowerTopFirst.join(':')},redirect_dir=off,index=off,metacopy=off`,
    mnt,
  ]);
  mounts.push(mnt);
  return mnt;
}

let image: string;
let uppers: string[];
let merged: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'storm-merge-'));
  image = join(root, 'image');
  await file(image, 'etc/a', 'image a');
  await file(image, 'etc/b', 'image b');
  await file(image, 'srv/www/index.html', 'image page');
  await file(image, 'srv/www/old.css', 'image css');
  await file(image, 'opt/tool/x', 'image x');
  await file(image, 'var/f', 'image file');
  await file(image, 'keep/k', 'image k');
  await file(image, 'lib/deep/y', 'image y');
  await file(image, 'usr/share/doc', 'image doc');

  const [l1, l2, l3] = ['l1', 'l2', 'l3'].map((n) => join(root, n)) as [string, string, string];
  uppers = [l1, l2, l3];
  for (const u of uppers) await dir(u, '');
  // l1: change a file, delete one, replace a directory (opaque), a directory over a file, hard links, odd files.
  await file(l1, 'etc/a', 'l1 a', 0o600);
  await xattr(l1, 'etc/a', 'user.note', 'from-l1');
  await whiteout(l1, 'etc/b');
  await opaque(l1, 'srv/www');
  await file(l1, 'srv/www/new.html', 'l1 page');
  await file(l1, 'var/f/inner/z', 'l1 z');
  await file(l1, 'data/h1', 'linked');
  await link(join(l1, 'data/h1'), join(l1, 'data/h2'));
  await file(l1, 'data/h3', 'linked too');
  await link(join(l1, 'data/h3'), join(l1, 'data/h4'));
  await symlink('../etc/a', join(l1, 'data/sym'));
  await runTool('mkfifo', [join(l1, 'data/fifo')]);
  await dir(l1, 'keep');
  await xattr(l1, 'keep', 'user.old', '1');
  await runTool('chown', ['123:456', join(l1, 'data/h1')]);
  await file(l1, 'usr/share', 'l1 file over an image directory');
  // l2: delete l1's change, bring b back, add to l1's opaque dir, whiteout a whole image directory, drop an xattr.
  await whiteout(l2, 'etc/a');
  await file(l2, 'etc/b', 'l2 b');
  await file(l2, 'srv/www/index.html', 'l2 page');
  await whiteout(l2, 'opt/tool');
  await dir(l2, 'keep');
  await chmod(join(l2, 'keep'), 0o700);
  await xattr(l2, 'keep', 'user.new', '2');
  await opaque(l2, 'lib/deep');
  await file(l2, 'lib/deep/only', 'l2 only');
  // l3: a plain directory over l2's whiteout (must hide the image's), a file over a directory, more in a merged dir.
  await file(l3, 'opt/tool/fresh', 'l3 fresh');
  await file(l3, 'data/h2', 'l3 replaces a link');
  await file(l3, 'var/f/inner/w', 'l3 w');
  await dir(l3, 'lib/deep');
  await file(l3, 'lib/deep/more', 'l3 more');
  await whiteout(l3, 'nothing/below');
  await file(l3, 'usr/share/mine', 'l3 dir over l1 file');

  merged = join(root, 'merged');
  await mergeUppers(uppers, merged);
});

afterAll(async () => {
  for (const m of mounts.reverse()) await runTool('umount', [m]).catch(() => undefined);
  if (root) await rm(root, { recursive: true, force: true });
});

describe('mergeUppers', () => {
  it('gives the same union over the image as the layers it merged (kernel overlayfs on both)', async () => {
    const stacked = await overlay('stacked', [...uppers].reverse().concat(image));
    const flat = await overlay('flat', [merged, image]);
    const a = await listing(stacked);
    const b = await listing(flat);
    expect(b).toEqual(a);
    // The union itself is what the layers meant.
    expect(a['/etc/a']).toBeUndefined();
    expect(await readFile(join(flat, 'etc/b'), 'utf8')).toBe('l2 b');
    expect((await readdir(join(flat, 'srv/www'))).sort()).toEqual(['index.html', 'new.html']);
    expect((await readdir(join(flat, 'opt/tool'))).sort()).toEqual(['fresh']);
    expect((await readdir(join(flat, 'lib/deep'))).sort()).toEqual(['more', 'only']);
    expect((await readdir(join(flat, 'var/f/inner'))).sort()).toEqual(['w', 'z']);
    expect((await readdir(join(flat, 'usr/share'))).sort()).toEqual(['mine']);
  });

  it('keeps whiteouts (they hide image files) and marks opaque what must stay opaque', async () => {
    const wo = await lstat(join(merged, 'etc/a'));
    expect(wo.isCharacterDevice() && wo.rdev === 0).toBe(true);
    expect((await lstat(join(merged, 'nothing/below'))).isCharacterDevice()).toBe(true);
    const attrs = await dumpXattrs(['srv/www', 'opt/tool', 'lib/deep', 'usr/share', 'var/f', 'keep'].map((p) => join(merged, p)));
    const opaqueOf = (p: string) => attrs.get(join(merged, p))?.get(OPAQUE_XATTR)?.toString();
    expect(opaqueOf('srv/www')).toBe('y'); // l1's opaque dir, merged with l2's plain one
    expect(opaqueOf('opt/tool')).toBe('y'); // a plain dir over a whiteout
    expect(opaqueOf('lib/deep')).toBe('y'); // l2 opaque, l3 plain on top
    expect(opaqueOf('usr/share')).toBe('y'); // a plain dir over l1's file, which hid the image's dir
    expect(opaqueOf('var/f')).toBeUndefined(); // over the image's file: the kernel stops at a non-directory anyway
    expect(attrs.get(join(merged, 'keep'))?.has('user.old')).toBe(false); // the top copy's xattrs win
    expect(attrs.get(join(merged, 'keep'))?.get('user.new')?.toString()).toBe('2');
    expect((await lstat(join(merged, 'keep'))).mode & 0o777).toBe(0o700);
  });

  it('keeps owners, hard links within a layer, symlinks and fifos', async () => {
    const h1 = await lstat(join(merged, 'data/h1'));
    expect(h1.uid).toBe(123);
    expect(h1.nlink).toBe(1); // its link h2 was replaced by l3's own file
    expect(await readFile(join(merged, 'data/h2'), 'utf8')).toBe('l3 replaces a link');
    const [h3, h4] = [await lstat(join(merged, 'data/h3')), await lstat(join(merged, 'data/h4'))];
    expect(h3.nlink).toBe(2);
    expect(h4.ino).toBe(h3.ino);
    expect(await readlink(join(merged, 'data/sym'))).toBe('../etc/a');
    expect((await lstat(join(merged, 'data/fifo'))).isFIFO()).toBe(true);
  });

  it('drops overlay bookkeeping xattrs but keeps opaque', async () => {
    const u = join(root, 'bookkeeping');
    await file(u, 'f', 'x');
    await xattr(u, 'f', 'trusted.overlay.origin', '0x00fb');
    await opaque(u, 'd');
    await xattr(u, 'd', 'trusted.overlay.impure', 'y');
    const out = join(root, 'bookkeeping-merged');
    await mergeUppers([u], out);
    const attrs = await dumpXattrs([out], { recursive: true, match: '^trusted\\.' });
    expect(attrs.get(join(out, 'f'))).toBeUndefined();
    expect([...(attrs.get(join(out, 'd'))?.keys() ?? [])]).toEqual([OPAQUE_XATTR]);
  });
});
