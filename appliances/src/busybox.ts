/**
 * The guest's busybox: the host's static binary from the busybox-static package, and its applets
 * as relative symlinks (relative so they resolve inside any root, before and after switch_root).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { posix } from 'node:path';
import { isStaticElf } from './elf.js';
import { ApplErr } from './errors.js';
import { run } from './run.js';

export const BUSYBOX_PATH = '/bin/busybox';
export const BUSYBOX_PACKAGE = 'busybox-static';

export interface Busybox {
  readonly data: Buffer;
  readonly sha256: string;
  /** Applet paths relative to `/`, e.g. `bin/sh`, `usr/bin/[`. */
  readonly applets: readonly string[];
}

export async function loadBusybox(path = BUSYBOX_PATH): Promise<Busybox> {
  const { stdout: owner } = await run('dpkg-query', ['-S', path]).catch((cause: unknown) => {
    throw ApplErr.APPL_ERR_BUSYBOX(`${path} belongs to no package; apt-get install ${BUSYBOX_PACKAGE}`, { cause });
  });
  if (
    !owner
      .split(':')[0]
      ?.split(',')
      .map((s) => s.trim())
      .includes(BUSYBOX_PACKAGE)
  ) {
    throw ApplErr.APPL_ERR_BUSYBOX(`${path} is not from ${BUSYBOX_PACKAGE} (${owner.trim()})`);
  }
  const data = await readFile(path);
  if (!isStaticElf(data)) throw ApplErr.APPL_ERR_BUSYBOX(`${path} is dynamically linked`);
  const { stdout } = await run(path, ['--list-full']);
  const applets = stdout
    .split('\n')
    .map((l) => l.trim())
    // linuxrc is the old initrd entry point; nothing here uses it.
    .filter((l) => l.includes('/') && l !== 'bin/busybox')
    .sort();
  if (!applets.includes('bin/sh')) throw ApplErr.APPL_ERR_BUSYBOX(`${path} has no sh applet`);
  return { data, sha256: createHash('sha256').update(data).digest('hex'), applets };
}

/** Symlink entries for every applet, each pointing at `bin/busybox` by a relative path. */
export function appletLinks(applets: readonly string[]): { path: string; target: string }[] {
  return applets.map((path) => ({ path, target: posix.relative(posix.dirname(`/${path}`), '/bin/busybox') }));
}

/** Every directory the applet links need, parents first. */
export function appletDirs(applets: readonly string[]): string[] {
  const dirs = new Set<string>(['bin']);
  for (const a of applets) {
    const parts = a.split('/').slice(0, -1);
    for (let i = 1; i <= parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  return [...dirs].sort();
}
