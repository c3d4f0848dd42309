import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSquashfs } from './squashfs.js';

const sha = async (p: string): Promise<string> =>
  createHash('sha256')
    .update(await readFile(p))
    .digest('hex');

describe('makeSquashfs', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'squashfs-test-'));
    await mkdir(join(dir, 'src/etc'), { recursive: true });
    await writeFile(join(dir, 'src/etc/hello'), 'hello\n');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('gives the same bytes for the same tree, whatever the file times', async () => {
    await makeSquashfs(join(dir, 'src'), join(dir, 'a.squashfs'));
    await utimes(join(dir, 'src/etc/hello'), new Date(2001, 1, 1), new Date(2001, 1, 1));
    await makeSquashfs(join(dir, 'src'), join(dir, 'b.squashfs'));
    expect(await sha(join(dir, 'a.squashfs'))).toBe(await sha(join(dir, 'b.squashfs')));
  });

  it('replaces an existing image instead of appending to it', async () => {
    await writeFile(join(dir, 'src/etc/hello'), 'changed\n');
    const before = await sha(join(dir, 'a.squashfs'));
    await makeSquashfs(join(dir, 'src'), join(dir, 'a.squashfs'));
    await makeSquashfs(join(dir, 'src'), join(dir, 'b.squashfs'));
    expect(await sha(join(dir, 'a.squashfs'))).not.toBe(before);
    expect(await sha(join(dir, 'a.squashfs'))).toBe(await sha(join(dir, 'b.squashfs')));
  });
});
