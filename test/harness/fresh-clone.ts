/**
 * A fresh clone of this repository's HEAD, as a newcomer has it, in a folder of its own that is 0700
 * like root's home. Two things come along that the start command would otherwise fetch or build for
 * minutes: node_modules and appliances/build, copied (never linked, so nothing the clone does reaches
 * this checkout). The clone's own set-up then decides, by content, that they are current.
 *
 * @example
 * const clone = await freshClone(ROOT);
 * try { spawnSync('bash', ['scripts/start.sh'], { cwd: clone.dir }); } finally { await clone.remove(); }
 */
import { execFile } from 'node:child_process';
import { mkdtemp, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface FreshClone {
  /** The clone. */
  readonly dir: string;
  /** Its parent folder, mode 0700, which also holds whatever the test keeps beside it. */
  readonly home: string;
  /** The commit it has checked out. */
  readonly commit: string;
  remove(): Promise<void>;
}

export async function freshClone(root: string): Promise<FreshClone> {
  const home = await mkdtemp(join(tmpdir(), 'storm-clone-'));
  const dir = join(home, 'storm');
  const remove = () => rm(home, { recursive: true, force: true });
  try {
    const commit = (await run('git', ['-C', root, 'rev-parse', 'HEAD'])).stdout.trim();
    await run('git', ['clone', '--quiet', '--no-checkout', root, dir]);
    await run('git', ['-C', dir, 'checkout', '--quiet', '--detach', commit]);
    for (const built of ['node_modules', 'appliances/build']) {
      // Worktrees may link these to another checkout: copy what the link points at.
      await run('cp', ['-a', '--reflink=auto', await realpath(join(root, built)), join(dir, built)]);
    }
    return { dir, home, commit, remove };
  } catch (err) {
    await remove();
    throw err;
  }
}
