/**
 * At start, removes what a stormd that died mid-merge or mid-package left in instance folders:
 * `.work-*` scratch folders (first unmounting the fuse2fs mounts they link to and whatever is
 * still mounted below them, and detaching the loop devices backed by their files, each by its own path) and partial files in `writable/`
 * and `packages/`. Nothing else is touched.
 *
 * @example
 * await sweepScratch('/var/lib/stormd/instances');
 */
import { readdir, readFile, readlink, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { runTool } from '../exec.js';
import { fuseUnmount } from './guest-fs.js';
import { unmount } from './layer-mount.js';

export const WORK_PREFIX = '.work-';

export async function sweepScratch(instancesDir: string): Promise<void> {
  const folders = await readdir(instancesDir, { withFileTypes: true }).catch(() => []);
  for (const folder of folders) {
    if (!folder.isDirectory()) continue;
    const dir = join(instancesDir, folder.name);
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      if (name.startsWith(WORK_PREFIX)) await removeWorkDir(join(dir, name));
    }
    for (const sub of ['writable', 'packages']) {
      for (const name of await readdir(join(dir, sub)).catch(() => [] as string[])) {
        if (name.startsWith('.')) await rm(join(dir, sub, name), { recursive: true, force: true });
      }
    }
  }
}

/** Unmounts (the fuse2fs mounts it links to, then any below it, deepest first), detaches, deletes. */
export async function removeWorkDir(work: string): Promise<void> {
  for (const name of await readdir(work).catch(() => [] as string[])) {
    if (!name.endsWith('.mnt')) continue;
    const target = await readlink(join(work, name)).catch(() => undefined);
    if (!target) continue;
    if ((await mountPoints()).includes(target)) await fuseUnmount(target);
    await rmdir(target).catch(() => undefined);
  }
  const under = (p: string) => p === work || p.startsWith(`${work}/`);
  const mounts = (await mountPoints()).filter(under).sort((a, b) => b.length - a.length);
  for (const m of mounts) await unmount(m);
  for (const loop of await loopDevices()) if (under(loop.backFile)) await runTool('losetup', ['-d', loop.name]);
  await rm(work, { recursive: true, force: true });
}

/** Mount points from /proc/self/mountinfo (field 5, octal escapes decoded). */
async function mountPoints(): Promise<string[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  return text
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((p): p is string => !!p)
    .map((p) => p.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8))));
}

async function loopDevices(): Promise<{ name: string; backFile: string }[]> {
  const { stdout } = await runTool('losetup', ['--list', '--json', '--output', 'NAME,BACK-FILE']);
  const text = stdout.toString().trim();
  if (!text) return [];
  const parsed = JSON.parse(text) as { loopdevices?: { name?: unknown; 'back-file'?: unknown }[] };
  return (parsed.loopdevices ?? []).flatMap((l) =>
    typeof l.name === 'string' && typeof l['back-file'] === 'string'
      ? [{ name: l.name, backFile: l['back-file'].replace(/ \(deleted\)$/, '') }]
      : [],
  );
}
