/**
 * The STORM initrd: a gzip'd newc cpio with the static busybox and its applets, the modules /init
 * loads (in load order), and /init itself, built reproducibly (same inputs, same bytes).
 */
import { readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { appletDirs, appletLinks, type Busybox } from './busybox.js';
import { type CpioEntry, writeCpio } from './cpio.js';

/** The guest-side sources: `init` and the layer logic it sources. */
export const INITRD_SRC = fileURLToPath(new URL('../initrd/', import.meta.url));

const BASE_DIRS = ['dev', 'etc', 'lib', 'lib/modules', 'lib/storm', 'newroot', 'proc', 'run', 'storm', 'sys', 'tmp'];

export interface InitrdInputs {
  readonly busybox: Busybox;
  /** Kernel release the modules belong to (`uname -r` in the guest). */
  readonly release: string;
  /** Directory with the `.ko` files and `load-order` (the kernel step's `modules/`). */
  readonly modulesDir: string;
  /** Directory with `init` and `storm-layers.sh`; defaults to `appliances/initrd/`. */
  readonly srcDir?: string;
}

export async function initrdEntries(inputs: InitrdInputs): Promise<CpioEntry[]> {
  const src = inputs.srcDir ?? INITRD_SRC;
  const modPath = `lib/modules/${inputs.release}`;
  const dirs = new Set([...BASE_DIRS, ...appletDirs(inputs.busybox.applets), modPath]);
  const entries: CpioEntry[] = [...dirs].map((path) => ({ type: 'dir', path, mode: 0o755 }));
  entries.push({ type: 'char', path: 'dev/console', mode: 0o600, major: 5, minor: 1 });
  entries.push({ type: 'file', path: 'bin/busybox', mode: 0o755, data: inputs.busybox.data });
  for (const link of appletLinks(inputs.busybox.applets)) entries.push({ type: 'symlink', ...link });
  entries.push({ type: 'file', path: 'init', mode: 0o755, data: await readFile(join(src, 'init')) });
  entries.push({ type: 'file', path: 'lib/storm/layers.sh', mode: 0o644, data: await readFile(join(src, 'storm-layers.sh')) });
  for (const name of (await readdir(inputs.modulesDir)).sort()) {
    entries.push({ type: 'file', path: `${modPath}/${name}`, mode: 0o644, data: await readFile(join(inputs.modulesDir, name)) });
  }
  return entries;
}

/** The initrd bytes: gzip (level 6: level 9 is 7x slower for 0.4% smaller; no name, mtime 0) over the sorted cpio. */
export async function initrdImage(inputs: InitrdInputs): Promise<Buffer> {
  return gzipSync(writeCpio(await initrdEntries(inputs)), { level: 6 });
}

export async function buildInitrd(inputs: InitrdInputs, outFile: string): Promise<number> {
  const image = await initrdImage(inputs);
  await writeFile(`${outFile}.tmp`, image);
  await rename(`${outFile}.tmp`, outFile);
  return image.length;
}
