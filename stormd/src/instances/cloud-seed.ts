/**
 * The cloud-init NoCloud seed of a traditional instance: `meta-data`, `user-data` and
 * `network-config` as the manager made them, on an ISO 9660 disk labelled `cidata` (what
 * cloud-init's NoCloud source looks for), built with genisoimage. Read-only to the guest.
 *
 * @example
 * await writeSeedIso(folder, { metaData, userData, networkConfig });
 * seedIsoPath(folder); // '<folder>/seed.iso'
 */
import { chmod, mkdtemp, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CloudInitSeed } from '../../protocol.js';
import { runTool } from '../exec.js';
import { OVERLAY_MODE } from './image-disk.js';

export const SEED_FILE = 'seed.iso';

export function seedIsoPath(folder: string): string {
  return join(folder, SEED_FILE);
}

export async function hasSeed(folder: string): Promise<boolean> {
  return stat(seedIsoPath(folder)).then(
    (s) => s.isFile(),
    () => false,
  );
}

/** Writes (or rewrites) the seed ISO; its files are fixed names, never the caller's. */
export async function writeSeedIso(folder: string, seed: CloudInitSeed): Promise<void> {
  const work = await mkdtemp(join(folder, '.work-seed-'));
  try {
    const names = ['meta-data', 'user-data', ...(seed.networkConfig === undefined ? [] : ['network-config'])];
    await writeFile(join(work, 'meta-data'), seed.metaData, { mode: 0o600 });
    await writeFile(join(work, 'user-data'), seed.userData, { mode: 0o600 });
    if (seed.networkConfig !== undefined) await writeFile(join(work, 'network-config'), seed.networkConfig, { mode: 0o600 });
    const out = join(work, SEED_FILE);
    await runTool('genisoimage', ['-quiet', '-output', out, '-volid', 'cidata', '-joliet', '-rock', ...names.map((n) => join(work, n))]);
    await chmod(out, OVERLAY_MODE);
    await rename(out, seedIsoPath(folder));
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
