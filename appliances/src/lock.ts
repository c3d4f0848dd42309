/**
 * One builder per output directory: test harnesses may start `build:appliances` side by side, and
 * two builders would trample each other's work files. The lock is `<out>/.lock` holding the pid;
 * a lock whose pid is gone is taken over.
 */
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApplErr } from './errors.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function tryLock(path: string): Promise<boolean> {
  try {
    const fh = await open(path, 'wx');
    await fh.writeFile(`${process.pid}\n`);
    await fh.close();
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const pid = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
    // An empty file may be a holder between open and write; only a dead pid is stale.
    if (Number.isInteger(pid) && pid > 0 && !alive(pid)) await rm(path, { force: true });
    return false;
  }
}

/** Runs `fn` holding the directory's lock, waiting up to `waitMs` for another builder. */
export async function withBuildLock<T>(out: string, fn: () => Promise<T>, log: (l: string) => void, waitMs = 15 * 60_000): Promise<T> {
  await mkdir(out, { recursive: true });
  const path = join(out, '.lock');
  const deadline = Date.now() + waitMs;
  let told = false;
  while (!(await tryLock(path))) {
    if (Date.now() > deadline) throw ApplErr.APPL_ERR_USAGE(`${out} is locked by another build (${path})`);
    if (!told) log(`waiting for another build of ${out} to finish`);
    told = true;
    await sleep(250);
  }
  try {
    return await fn();
  } finally {
    await rm(path, { force: true });
  }
}
