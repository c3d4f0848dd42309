/**
 * Helpers on a staged layer tree (guest content, so never followed through symlinks): leaving
 * guest paths out of it, and measuring it to size the image it becomes.
 *
 * @example
 * await excludeGuestPaths('/work/image/upper', ['/etc/storm/token']); // removes upper/etc/storm/token if it is there
 * await treeUsage('/work/image/upper'); // { bytes: 81920, entries: 14 }
 * await realDir('/work/seed/upper', 'etc/storm'); // '/work/seed/upper/etc/storm', a directory, not a guest symlink
 */
import { lstat, mkdir, readdir, rm } from 'node:fs/promises';
import { isAbsolute, join, normalize } from 'node:path';
import { StormdErr } from '../errors.js';

/** Checks a guest path is absolute and stays inside the root once normalized. */
export function guestPath(path: string): string {
  const n = normalize(path);
  if (!isAbsolute(path) || n !== path || n === '/' || /["\n\0]/.test(path))
    throw StormdErr.STORMD_ERR_BAD_INPUT(`guest path ${JSON.stringify(path)} must be a plain absolute guest path`);
  return n;
}

/**
 * Removes each guest path from `root`, whatever it is there (file, directory, whiteout). A path
 * reached only through a symlink or a non-directory is not in this tree, so nothing is removed:
 * a guest symlink must never lead the host outside `root`.
 */
export async function excludeGuestPaths(root: string, paths: readonly string[]): Promise<string[]> {
  const removed: string[] = [];
  for (const path of paths) {
    const parts = guestPath(path).split('/').filter(Boolean);
    let dir = root;
    let inside = true;
    for (const part of parts.slice(0, -1)) {
      dir = join(dir, part);
      const s = await lstat(dir).catch(() => undefined);
      if (!s?.isDirectory()) {
        inside = false;
        break;
      }
    }
    const target = join(dir, parts.at(-1) ?? '');
    if (inside && (await lstat(target).catch(() => undefined))) {
      await rm(target, { recursive: true, force: true });
      removed.push(path);
    }
  }
  return removed;
}

/**
 * Makes `rel` under `root` a real directory, component by component: whatever else is in the way
 * (a symlink copied from a guest, a file) is removed first, so writing below it stays inside `root`.
 */
export async function realDir(root: string, rel: string): Promise<string> {
  let dir = root;
  for (const part of rel.split('/').filter(Boolean)) {
    dir = join(dir, part);
    const s = await lstat(dir).catch(() => undefined);
    if (s?.isDirectory()) continue;
    if (s) await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { mode: 0o755 });
  }
  return dir;
}

export interface TreeUsage {
  /** Allocated bytes of every entry (hard links once). */
  readonly bytes: number;
  /** Entries, directories included: each needs an inode. */
  readonly entries: number;
}

/** What the tree under `root` takes (physical walk). */
export async function treeUsage(root: string): Promise<TreeUsage> {
  let bytes = 0;
  let entries = 0;
  const seen = new Set<number>();
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, entry.name);
      const s = await lstat(p);
      entries += 1;
      if (s.nlink > 1 && !s.isDirectory()) {
        if (seen.has(s.ino)) continue;
        seen.add(s.ino);
      }
      bytes += s.blocks * 512;
      if (s.isDirectory()) await walk(p);
    }
  };
  await walk(root);
  return { bytes, entries };
}
