/**
 * Stages what a copy step puts into a layer: a folder mirroring the files' final paths, with modes
 * normalized the way the busybox layers are (git keeps only the executable bit, so the umask of a
 * checkout must not reach an image): files 0755 or 0644, directories 0755, owner root.
 *
 * @example
 * const entries = await stageCopy({ copy: 'files' }, recipe.dir, join(work, 'copy-1'));
 * const script = copyScript(entries); // run under busybox with src = join(work, 'copy-1')
 */
import { copyFile, chmod, mkdir, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, posix, resolve } from 'node:path';
import { ApplErr } from '../errors.js';
import { walkTree } from '../tree.js';
import type { CopyEntry } from './actions.js';
import type { CopyStep } from './recipe-schema.js';

async function stageFile(from: string, stage: string, path: string, executable: boolean): Promise<CopyEntry> {
  const to = join(stage, path);
  await mkdir(dirname(to), { recursive: true });
  await copyFile(from, to);
  const mode = executable ? 0o755 : 0o644;
  await chmod(to, mode);
  return { type: 'file', path, mode };
}

/** The source of a copy step, or undefined when it is optional and absent. */
export async function copySource(step: CopyStep, recipeDir: string): Promise<string | undefined> {
  const src = resolve(recipeDir, step.copy);
  if (
    await stat(src).then(
      () => true,
      () => false,
    )
  )
    return src;
  if (step.optional) return undefined;
  throw ApplErr.APPL_ERR_RECIPE_INVALID(`copy: ${src} does not exist`);
}

/** Fills `stage` (made fresh) from `src` and lists what the copy script must put in place. */
export async function stageCopy(step: CopyStep, src: string, stage: string): Promise<CopyEntry[]> {
  await rm(stage, { recursive: true, force: true });
  await mkdir(stage, { recursive: true });
  const st = await stat(src);
  if (st.isFile()) {
    if (!step.to) throw ApplErr.APPL_ERR_RECIPE_INVALID(`copy ${step.copy}: a single file needs "to"`);
    const path = step.to.endsWith('/') ? posix.join(step.to, basename(src)) : step.to;
    assertDestination(path);
    return [await stageFile(src, stage, path, (st.mode & 0o111) !== 0)];
  }
  const base = step.to ?? '/';
  const entries: CopyEntry[] = [];
  for (const e of await walkTree(src)) {
    const path = posix.join(base, e.rel);
    assertDestination(path);
    if (e.type === 'dir') {
      entries.push({ type: 'dir', path, mode: 0o755 });
    } else if (e.type === 'file') {
      entries.push(await stageFile(join(src, e.rel), stage, path, e.executable));
    } else {
      entries.push({ type: 'symlink', path, mode: 0o777, target: await readlink(join(src, e.rel)) });
    }
  }
  return entries;
}

/** Stages the layer's marker, `/etc/storm/layers/<name>` (docs/initrd.md: every layer ships one). */
export async function stageMarker(
  meta: { readonly name: string; readonly version: string; readonly kind: string },
  stage: string,
): Promise<CopyEntry[]> {
  await rm(stage, { recursive: true, force: true });
  const path = `/etc/storm/layers/${meta.name}`;
  await mkdir(join(stage, dirname(path)), { recursive: true });
  await writeFile(join(stage, path), `name=${meta.name}\nversion=${meta.version}\nkind=${meta.kind}\n`, { mode: 0o644 });
  await chmod(join(stage, path), 0o644);
  return [{ type: 'file', path, mode: 0o644 }];
}

/** Where a build mounts tmpfs, proc or sysfs: a copy there would never reach the layer. */
const MOUNTED = ['/dev', '/proc', '/sys', '/run', '/tmp'];

function assertDestination(path: string): void {
  if (MOUNTED.some((m) => path === m || path.startsWith(`${m}/`))) {
    throw ApplErr.APPL_ERR_RECIPE_INVALID(`copy: ${path} is under ${MOUNTED.join(', ')}, which are mounted over during a build`);
  }
}
