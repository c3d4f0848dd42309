/**
 * Copies guest paths out of a stack of overlay upper directories as the union shows them (the
 * newest layer holding a path wins): a reprovision seeds the new layer with the instance's identity
 * this way (`NewWritableLayerRequest.copyPaths`). A whiteout, a non-directory ancestor or an opaque
 * ancestor in a newer layer hides the path in the older ones, exactly as in overlayfs; a directory
 * is the merge of its versions down to the first opaque one. Paths the stack does not hold are
 * skipped. Symlinks are copied as symlinks, never followed.
 *
 * @example
 * await copyFromStack(['/mnt/w2/upper', '/mnt/w1/upper', '/mnt/w0/upper'], ['/etc/storm/token'], '/work/copy');
 * // ['/etc/storm/token'] — now at /work/copy/etc/storm/token, owner, mode and xattrs kept
 */
import type { Stats } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { runTool } from '../exec.js';
import { mergeUppers, OPAQUE_XATTR } from './overlay-merge.js';
import { guestPath, realDir } from './stage-tree.js';
import { dumpXattrs } from './xattrs.js';

/** Copies each path the stack holds into `dest` (same relative place); answers the ones copied. */
export async function copyFromStack(uppersTopFirst: readonly string[], paths: readonly string[], dest: string): Promise<string[]> {
  const copied: string[] = [];
  for (const path of paths) {
    const rel = guestPath(path).slice(1);
    const found = await versionsOf(uppersTopFirst, rel);
    if (!found.length) continue;
    const target = join(await realDir(dest, dirname(rel)), basename(rel));
    const [top] = found;
    if (top && !top.stat.isDirectory()) await runTool('cp', ['-a', '--preserve=xattr', '--', top.path, target]);
    else await mergeUppers(found.map((v) => v.path).reverse(), target);
    copied.push(path);
  }
  return copied;
}

interface Version {
  readonly path: string;
  readonly stat: Stats;
}

/** The versions of `rel` the union is made of, top first: one non-directory, or directories down to the first opaque one. */
async function versionsOf(uppersTopFirst: readonly string[], rel: string): Promise<Version[]> {
  const parts = rel.split('/');
  const out: Version[] = [];
  for (const upper of uppersTopFirst) {
    let blocked = false; // a non-directory ancestor: this layer hides the path below and lacks it
    let absent = false;
    const ancestors: string[] = [];
    for (let i = 1; i < parts.length && !blocked && !absent; i++) {
      const a = join(upper, ...parts.slice(0, i));
      const s = await lstat(a).catch(() => undefined);
      if (!s) absent = true;
      else if (!s.isDirectory()) blocked = true;
      else ancestors.push(a);
    }
    if (blocked) return out;
    const leaf = absent ? undefined : await lstat(join(upper, rel)).catch(() => undefined);
    const attrs = await dumpXattrs(leaf?.isDirectory() ? [...ancestors, join(upper, rel)] : ancestors, {
      match: `^${OPAQUE_XATTR.replace(/\./g, '\\.')}$`,
    });
    const opaque = (p: string) => attrs.get(p)?.get(OPAQUE_XATTR)?.toString() === 'y';
    const hidesBelow = ancestors.some(opaque);
    if (leaf) {
      const isWhiteout = leaf.isCharacterDevice() && leaf.rdev === 0;
      if (!leaf.isDirectory()) return out.length || isWhiteout ? out : [{ path: join(upper, rel), stat: leaf }];
      out.push({ path: join(upper, rel), stat: leaf });
      if (opaque(join(upper, rel))) return out;
    }
    if (hidesBelow) return out;
  }
  return out;
}
