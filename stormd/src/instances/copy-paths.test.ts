import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTool } from '../exec.js';
import { copyFromStack } from './copy-paths.js';
import { OPAQUE_XATTR } from './overlay-merge.js';

let root: string;
let layers: string[]; // top first
const put = async (base: string, path: string, content: string) => {
  await mkdir(dirname(join(base, path)), { recursive: true });
  await writeFile(join(base, path), content);
};

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'storm-copy-'));
  const [w2, w1, w0] = ['w2', 'w1', 'w0'].map((n) => join(root, n)) as [string, string, string];
  layers = [w2, w1, w0];
  await put(w0, 'etc/storm/token', 'token-0');
  await chmod(join(w0, 'etc/storm/token'), 0o600);
  await put(w0, 'etc/storm/instance.json', '{"id":"i1"}');
  await put(w0, 'etc/ssh/key_a', 'a0');
  await put(w0, 'etc/ssh/key_b', 'b0');
  await put(w0, 'etc/gone', 'deleted later');
  await put(w0, 'srv/x/old', 'hidden by an opaque dir');
  await put(w1, 'etc/storm/token', 'token-1');
  await put(w1, 'etc/ssh/key_b', 'b1');
  await runTool('mknod', [join(w1, 'etc/gone'), 'c', '0', '0']);
  await mkdir(join(w1, 'srv/x'), { recursive: true });
  await runTool('setfattr', ['-n', OPAQUE_XATTR, '-v', 'y', join(w1, 'srv/x')]);
  await put(w1, 'srv/x/new', 'in the opaque dir');
  await mkdir(w2, { recursive: true });
  await symlink('/etc/shadow', join(w2, 'link'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('copyFromStack', () => {
  it('copies what the union shows: the newest version, merged directories, nothing deleted', async () => {
    const dest = join(root, 'dest');
    await mkdir(dest);
    const copied = await copyFromStack(
      layers,
      ['/etc/storm/token', '/etc/storm/instance.json', '/etc/ssh', '/etc/gone', '/srv/x', '/link', '/no/such'],
      dest,
    );
    expect(copied).toEqual(['/etc/storm/token', '/etc/storm/instance.json', '/etc/ssh', '/srv/x', '/link']);
    expect(await readFile(join(dest, 'etc/storm/token'), 'utf8')).toBe('token-1');
    expect(await readFile(join(dest, 'etc/ssh/key_a'), 'utf8')).toBe('a0');
    expect(await readFile(join(dest, 'etc/ssh/key_b'), 'utf8')).toBe('b1');
    expect(await readdir(join(dest, 'srv/x'))).toEqual(['new']);
    expect(await readlink(join(dest, 'link'))).toBe('/etc/shadow'); // copied as a link, never followed
    await expect(lstat(join(dest, 'etc/gone'))).rejects.toThrow();
  });

  it('keeps modes', async () => {
    const dest = join(root, 'dest2');
    await mkdir(dest);
    await copyFromStack(layers.slice(2), ['/etc/storm/token'], dest);
    expect((await lstat(join(dest, 'etc/storm/token'))).mode & 0o777).toBe(0o600);
    expect(await readFile(join(dest, 'etc/storm/token'), 'utf8')).toBe('token-0');
  });
});
