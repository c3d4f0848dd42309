/**
 * From an upper directory to a layer image: drop what a build leaves behind that no guest needs and
 * that would differ between two builds (logs, apt and ldconfig caches, backup files), copy the tree
 * keeping owners, whiteouts (0:0 character devices) and only the xattrs a layer means
 * (`trusted.overlay.opaque`, file capabilities) — overlayfs's bookkeeping such as
 * `trusted.overlay.origin` names host inodes — then pack it with every timestamp fixed.
 *
 * @example
 * await removeJunk(upper, { whole: false });
 * await stageUpper(upper, stage);
 * await packLayer(stage, 'out/layers/nginx-web.squashfs', recipe.epoch);
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { run } from '../run.js';

/** Folders whose regular files and symlinks are build leftovers; the folders themselves stay. */
export const JUNK_FILES_UNDER = ['var/log', 'var/cache/apt', 'var/lib/apt/lists', 'var/tmp'] as const;
/** Single leftovers: backups that dpkg, debconf and shadow keep, ldconfig's stat cache, shell history. */
export const JUNK_FILES = [
  'etc/passwd-',
  'etc/group-',
  'etc/shadow-',
  'etc/gshadow-',
  'etc/subuid-',
  'etc/subgid-',
  'var/cache/debconf/config.dat-old',
  'var/cache/debconf/templates.dat-old',
  'var/cache/debconf/passwords.dat-old',
  'var/lib/dpkg/status-old',
  'var/lib/dpkg/diversions-old',
  'var/lib/dpkg/statoverride-old',
  'var/lib/dpkg/available-old',
  'var/cache/ldconfig/aux-cache',
  'root/.bash_history',
] as const;
/** Only in a whole root (an OS layer): mounted over at boot, so anything in them is dead weight. */
export const WHOLE_ROOT_CLEARED = ['dev', 'run', 'tmp'] as const;

/** xattrs a layer keeps; everything else (overlay origin/impure, …) is dropped. */
export const KEPT_XATTRS = ['trusted.overlay.opaque', 'security.capability'] as const;

async function removeFilesUnder(dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    const p = join(dir, name);
    const st = await lstat(p);
    if (st.isDirectory()) await removeFilesUnder(p);
    // Character devices stay: in an upper directory they are whiteouts the recipe made on purpose.
    else if (st.isFile() || st.isSymbolicLink()) await rm(p);
  }
}

async function clearDir(dir: string): Promise<void> {
  for (const name of await readdir(dir).catch(() => [] as string[])) await rm(join(dir, name), { recursive: true, force: true });
}

/** Removes build leftovers from `upper`; `whole` when it is a whole root (no lowers). */
export async function removeJunk(upper: string, opts: { readonly whole: boolean }): Promise<void> {
  for (const d of JUNK_FILES_UNDER) await removeFilesUnder(join(upper, d));
  for (const f of JUNK_FILES) {
    const p = join(upper, f);
    const st = await lstat(p).catch(() => undefined);
    if (st && (st.isFile() || st.isSymbolicLink())) await rm(p);
  }
  if (opts.whole) for (const d of WHOLE_ROOT_CLEARED) await clearDir(join(upper, d));
}

/** Copies `upper` into a fresh `stage` with GNU tar: owners by number, devices, links, kept xattrs. */
export async function stageUpper(upper: string, stage: string): Promise<void> {
  await rm(stage, { recursive: true, force: true });
  await mkdir(stage, { recursive: true });
  const xattrs = ['--xattrs', ...KEPT_XATTRS.map((x) => `--xattrs-include=${x}`)].join(' ');
  await run('bash', [
    '-o',
    'pipefail',
    '-c',
    `tar -C "$1" --numeric-owner ${xattrs} -cf - . | tar -C "$2" --numeric-owner --same-owner ${xattrs} -xpf -`,
    'stage-upper',
    upper,
    stage,
  ]);
}

/** mksquashfs flags for recipe layers: owners and xattrs kept (unlike the busybox layers), times fixed. */
export function layerSquashfsOptions(epoch: number): string[] {
  const t = String(epoch);
  return ['-noappend', '-reproducible', '-mkfs-time', t, '-all-time', t, '-comp', 'zstd', '-quiet', '-no-progress'];
}

/** Packs `stage` into `outFile` (written beside it, then renamed into place). */
export async function packLayer(stage: string, outFile: string, epoch: number): Promise<void> {
  await mkdir(dirname(outFile), { recursive: true });
  const tmp = `${outFile}.tmp`;
  await rm(tmp, { force: true });
  await run('mksquashfs', [stage, tmp, ...layerSquashfsOptions(epoch)]);
  await rename(tmp, outFile);
}

/** Streams a file through sha256. */
export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}
