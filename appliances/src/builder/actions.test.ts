import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readlink, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApplErr } from '../errors.js';
import { aptScript, copyScript, debconfScript, deleteScript, runScript, shQuote } from './actions.js';

const run = promisify(execFile);

describe('shQuote', () => {
  it('single-quotes anything sh could misread, and refuses line breaks', async () => {
    for (const s of ['plain', "it's", '$(reboot)', '`x`', 'a b\tc', '"; rm -rf /']) {
      const { stdout } = await run('sh', ['-c', `printf '%s' ${shQuote(s)}`]);
      expect(stdout).toBe(s);
    }
    expect(() => shQuote('a\nb')).toThrow(expect.objectContaining({ code: ApplErr.APPL_ERR_RECIPE_INVALID.code }));
  });
});

describe('step scripts', () => {
  it('run joins an array of lines under set -e', () => {
    expect(runScript(['a', 'b'])).toBe('set -e\na\nb\n');
    expect(runScript('x')).toBe('set -e\nx\n');
  });

  it('apt updates only when asked, installs without recommends, quotes package names', () => {
    const first = aptScript(['nginx', 'postfix=3.7.11-0+deb12u1'], { update: true });
    expect(first.split('\n').filter((l) => / update$/.test(l))).toHaveLength(1);
    expect(first).toMatch(/--no-install-recommends .* install 'nginx' 'postfix=3\.7\.11-0\+deb12u1'\n$/);
    expect(first).toContain("'Dir::Cache::pkgcache='");
    expect(aptScript(['nginx'], { update: false })).not.toMatch(/ update\n/);
  });

  it('debconf feeds the selections through a quoted here-document', () => {
    expect(debconfScript(['postfix postfix/main_mailer_type select No configuration'])).toBe(
      "set -e\ndebconf-set-selections <<'STORM_SELECTIONS'\npostfix postfix/main_mailer_type select No configuration\nSTORM_SELECTIONS\n",
    );
  });
});

// The busybox scripts, run by the host's static busybox on a scratch tree standing in for the union.
describe('copy and delete scripts under busybox', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'actions-test-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Rewrites the script's absolute paths into `root` and runs it. */
  async function bb(script: string, root: string, src: string): Promise<void> {
    const local = script
      .replace('BB=/run/storm-build/busybox', 'BB=/bin/busybox')
      .replace('S=/run/storm-build/src', `S=${src}`)
      .replace(/ '\//g, ` '${root}/`);
    await writeFile(join(dir, 'script.sh'), local);
    await run('/bin/busybox', ['sh', join(dir, 'script.sh')]);
  }

  it('copy makes missing dirs, keeps existing ones, replaces files and links', async () => {
    const root = join(dir, 'root');
    const src = join(dir, 'src');
    await mkdir(join(root, 'etc/existing'), { recursive: true, mode: 0o700 });
    await writeFile(join(root, 'etc/existing/old'), 'old');
    await mkdir(join(src, `${root}/etc/existing`), { recursive: true });
    await mkdir(join(src, `${root}/etc/new/deep`), { recursive: true });
    await writeFile(join(src, `${root}/etc/existing/old`), 'new');
    await writeFile(join(src, `${root}/etc/new/deep/f`), 'f');
    // The script sees paths relative to the union root, so stage under the same rewritten path.
    await bb(
      copyScript([
        { type: 'dir', path: '/etc/existing', mode: 0o755 },
        { type: 'file', path: '/etc/existing/old', mode: 0o644 },
        { type: 'file', path: '/etc/new/deep/f', mode: 0o755 },
        { type: 'symlink', path: '/etc/new/link', mode: 0o777, target: 'deep/f' },
      ]),
      root,
      src,
    );
    expect((await stat(join(root, 'etc/existing'))).mode & 0o777).toBe(0o700);
    expect(await readFile(join(root, 'etc/existing/old'), 'utf8')).toBe('new');
    expect((await stat(join(root, 'etc/new/deep/f'))).mode & 0o777).toBe(0o755);
    expect((await stat(join(root, 'etc/new/deep'))).mode & 0o777).toBe(0o755);
    expect(await readlink(join(root, 'etc/new/link'))).toBe('deep/f');
  });

  it('delete removes files and trees, and fails on a path that is not there', async () => {
    const root = join(dir, 'del');
    await mkdir(join(root, 'a/b'), { recursive: true });
    await writeFile(join(root, 'f'), 'x');
    await bb(deleteScript(['/a', '/f']), root, dir);
    await expect(stat(join(root, 'a'))).rejects.toThrow();
    await expect(stat(join(root, 'f'))).rejects.toThrow();
    await expect(bb(deleteScript(['/missing']), root, dir)).rejects.toThrow(/does not exist/);
  });
});
