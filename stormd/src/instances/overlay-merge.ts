/**
 * Merges overlayfs upper directories into one, as overlayfs itself stacks them, so the merged
 * tree over the same image layers shows the same union. Layers go bottom → top onto `stage`:
 *
 * - a whiteout (character device 0/0) deletes the path below and stays a whiteout: it may hide a
 *   file of an image layer further down;
 * - any other non-directory replaces whatever was at its path;
 * - an opaque directory (`trusted.overlay.opaque=y`) replaces the directory below and stays opaque;
 * - a directory over a directory merges into it and takes the upper copy's attributes (overlayfs
 *   shows the topmost); it stays opaque when the one below was;
 * - a directory over a non-directory or whiteout becomes opaque: in the stack, the layer below
 *   stopped the lookup there, so the image layers must stay hidden.
 *
 * Overlay bookkeeping xattrs other than `opaque` (origin, impure, …: file handles into one mount's
 * lower layers) are dropped at the end; they mean nothing once the layer moves. Copies keep owners,
 * modes, times, hard links within a layer, device nodes and xattrs (`cp -a`, xattrs required).
 *
 * @example
 * await mergeUppers(['/mnt/w0/upper', '/mnt/w1/upper'], '/work/image/upper');
 */
import { lstat, mkdir, readdir, rm } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { join } from 'node:path';
import { StormdErr } from '../errors.js';
import { runTool } from '../exec.js';
import { dumpXattrs, removeXattr, setXattr } from './xattrs.js';

export const OPAQUE_XATTR = 'trusted.overlay.opaque';
const COPY_TIMEOUT_MS = 60 * 60_000;

/** Merges `uppers` (bottom first) into `stage`, which is created when absent. */
export async function mergeUppers(uppers: readonly string[], stage: string): Promise<void> {
  await mkdir(stage, { recursive: true, mode: 0o755 });
  for (const upper of uppers) await applyUpper(upper, stage);
  await dropOverlayBookkeeping(stage);
}

/** What putting one upper on the stage changes before its files are copied in. */
interface UpperPlan {
  /** Stage paths (relative) the upper deletes or replaces. */
  readonly remove: string[];
  /** Directories that replace a non-directory or whiteout: marked opaque after the copy. */
  readonly opaque: string[];
  /** Directories on both sides that merge ('' is the root). */
  readonly merged: string[];
}

/** Applies one upper directory on top of `stage`. */
export async function applyUpper(upper: string, stage: string): Promise<void> {
  const upperAttrs = await dumpXattrs([upper], { recursive: true });
  const attrsOf = (rel: string) => upperAttrs.get(join(upper, rel));
  const plan = await planUpper(upper, stage, (rel) => attrsOf(rel)?.get(OPAQUE_XATTR)?.toString() === 'y');
  const before = await dumpXattrs(plan.merged.map((r) => join(stage, r)));
  for (const r of plan.remove) await rm(join(stage, r), { recursive: true, force: true });
  // --preserve=xattr after -a makes a lost xattr an error instead of a silent skip.
  await runTool('cp', ['-a', '--preserve=xattr', '--', `${upper}/.`, `${stage}/`], COPY_TIMEOUT_MS);
  // cp adds the upper directory's xattrs but keeps the stage's others; the upper's set is what the union showed.
  const stale = new Map<string, string[]>();
  for (const r of plan.merged) {
    const old = before.get(join(stage, r));
    for (const name of old?.keys() ?? []) {
      if (name !== OPAQUE_XATTR && !attrsOf(r)?.has(name)) stale.set(name, [...(stale.get(name) ?? []), join(stage, r)]);
    }
  }
  for (const [name, paths] of stale) await removeXattr(name, paths);
  if (plan.opaque.length)
    await setXattr(
      OPAQUE_XATTR,
      'y',
      plan.opaque.map((r) => join(stage, r)),
    );
}

/** Walks the whole upper (every name must be UTF-8) and decides, where the stage has something, what happens to it. */
async function planUpper(upper: string, stage: string, isOpaque: (rel: string) => boolean): Promise<UpperPlan> {
  const plan: UpperPlan = { remove: [], opaque: [], merged: [''] };
  // `onStage`: the stage has a directory at `rel` too, so entries below may meet stage entries.
  const visit = async (rel: string, onStage: boolean): Promise<void> => {
    for (const name of await utf8Names(join(upper, rel))) {
      const r = rel ? `${rel}/${name}` : name;
      const entry = await lstat(join(upper, r));
      const below = onStage ? await lstatOrNone(join(stage, r)) : undefined;
      if (!entry.isDirectory()) {
        if (below) plan.remove.push(r);
        continue;
      }
      const merge = !!below && below.isDirectory() && !isOpaque(r);
      if (merge) plan.merged.push(r);
      else if (below) plan.remove.push(r);
      if (below && !below.isDirectory()) plan.opaque.push(r);
      await visit(r, merge);
    }
  };
  await visit('', true);
  return plan;
}

/** Drops `trusted.overlay.*` except `opaque` everywhere under `stage`. */
export async function dropOverlayBookkeeping(stage: string): Promise<void> {
  const dump = await dumpXattrs([stage], { recursive: true, match: '^trusted\\.overlay\\.' });
  const byName = new Map<string, string[]>();
  for (const [path, attrs] of dump) {
    for (const name of attrs.keys()) if (name !== OPAQUE_XATTR) byName.set(name, [...(byName.get(name) ?? []), path]);
  }
  for (const [name, paths] of byName) await removeXattr(name, paths);
}

/** Entry names of `dir`; a name that is not valid UTF-8 cannot be carried through Node's string paths. */
async function utf8Names(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const raw of await readdir(dir, { encoding: 'buffer' })) {
    const name = raw.toString('utf8');
    if (!Buffer.from(name, 'utf8').equals(raw)) {
      throw StormdErr.STORMD_ERR_LAYER_UNSUPPORTED(`a file name in ${dir} is not UTF-8 (${JSON.stringify(raw.toString('latin1'))})`);
    }
    out.push(name);
  }
  return out.sort();
}

async function lstatOrNone(path: string): Promise<Stats | undefined> {
  try {
    return await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
