/**
 * scripts/npm-current.mjs, which decides whether scripts/setup.sh runs `npm install`: current when
 * npm's record of node_modules matches the lockfile by content (whatever the files' mtimes, as in a
 * fresh clone), stale with a reason otherwise. Also on this repository's own node_modules.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const SCRIPT = join(ROOT, 'scripts/npm-current.mjs');

type Packages = Record<string, Record<string, unknown>>;
const pkg = { name: 'x', version: '1.0.0', dependencies: { a: '^1.0.0' }, devDependencies: { b: '^2.0.0' } };
const locked: Packages = {
  '': { name: 'x', version: '1.0.0', dependencies: { a: '^1.0.0' }, devDependencies: { b: '^2.0.0' } },
  'node_modules/a': { version: '1.2.0', integrity: 'sha512-a' },
  'node_modules/b': { version: '2.0.1', integrity: 'sha512-b', dev: true },
  'node_modules/other-os': { version: '1.0.0', integrity: 'sha512-o', optional: true, os: ['!linux', '!darwin', '!win32'] },
};
const installed = (): Packages => ({
  'node_modules/a': { ...locked['node_modules/a'] },
  'node_modules/b': { ...locked['node_modules/b'] },
});

let work: string;
let n = 0;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'storm-npm-current-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function project(files: { pkg?: object; lock?: Packages; installed?: Packages | null }): Promise<string> {
  const dir = join(work, String(++n));
  await mkdir(join(dir, 'node_modules'), { recursive: true });
  await writeFile(join(dir, 'package.json'), JSON.stringify(files.pkg ?? pkg));
  await writeFile(join(dir, 'package-lock.json'), JSON.stringify({ name: 'x', lockfileVersion: 3, packages: files.lock ?? locked }));
  if (files.installed !== null)
    await writeFile(
      join(dir, 'node_modules/.package-lock.json'),
      JSON.stringify({ name: 'x', lockfileVersion: 3, packages: files.installed ?? installed() }),
    );
  return dir;
}

function check(dir: string): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, [SCRIPT, dir], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout.trim() };
}

describe('scripts/npm-current.mjs', () => {
  it('is current when the installed tree is the locked one, other platforms’ optional packages aside', async () => {
    expect(check(await project({}))).toEqual({ code: 0, out: '' });
  });

  it('is stale, saying why, when a version, a package, the record or package.json differ', async () => {
    const older = installed();
    older['node_modules/a'] = { version: '1.1.0', integrity: 'sha512-old' };
    expect(check(await project({ installed: older }))).toEqual({ code: 1, out: 'node_modules/a is 1.1.0, the lockfile has 1.2.0' });

    const missing = installed();
    delete missing['node_modules/b'];
    expect(check(await project({ installed: missing }))).toEqual({ code: 1, out: 'node_modules/b is not installed' });

    const extra = { ...installed(), 'node_modules/c': { version: '1.0.0' } };
    expect(check(await project({ installed: extra }))).toEqual({ code: 1, out: 'node_modules/c is installed but not in the lockfile' });

    expect(check(await project({ installed: null }))).toEqual({ code: 1, out: 'nothing installed yet' });

    const added = { ...pkg, dependencies: { ...pkg.dependencies, c: '^1.0.0' } };
    expect(check(await project({ pkg: added }))).toEqual({ code: 1, out: 'package.json wants c@^1.0.0, the lockfile does not' });
  });

  it('wants an optional package meant for this machine', async () => {
    const lock = {
      ...locked,
      'node_modules/native': { version: '1.0.0', integrity: 'sha512-n', optional: true, os: [process.platform], cpu: [process.arch] },
    };
    expect(check(await project({ lock }))).toEqual({ code: 1, out: 'node_modules/native is not installed' });
  });

  it("finds this repository's node_modules current", () => {
    expect(check(ROOT)).toEqual({ code: 0, out: '' });
  });
});
