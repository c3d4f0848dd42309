import { mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApplErr } from '../errors.js';
import { copySource, stageCopy, stageMarker } from './copy-stage.js';

describe('copy staging', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'copy-stage-test-'));
    await mkdir(join(dir, 'recipe/files/etc/app'), { recursive: true });
    await writeFile(join(dir, 'recipe/files/etc/app/conf'), 'c', { mode: 0o600 });
    await writeFile(join(dir, 'recipe/files/etc/app/run.sh'), '#!/bin/sh\n', { mode: 0o700 });
    await symlink('conf', join(dir, 'recipe/files/etc/app/link'));
    await writeFile(join(dir, 'recipe/one-file'), 'x', { mode: 0o775 });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('mirrors a folder under its destination with normalized modes', async () => {
    const stage = join(dir, 'stage-a');
    const entries = await stageCopy({ copy: 'files', to: '/opt/x' }, join(dir, 'recipe/files'), stage);
    expect(entries).toEqual([
      { type: 'dir', path: '/opt/x/etc', mode: 0o755 },
      { type: 'dir', path: '/opt/x/etc/app', mode: 0o755 },
      { type: 'file', path: '/opt/x/etc/app/conf', mode: 0o644 },
      { type: 'symlink', path: '/opt/x/etc/app/link', mode: 0o777, target: 'conf' },
      { type: 'file', path: '/opt/x/etc/app/run.sh', mode: 0o755 },
    ]);
    expect(await readFile(join(stage, 'opt/x/etc/app/conf'), 'utf8')).toBe('c');
    expect((await stat(join(stage, 'opt/x/etc/app/conf'))).mode & 0o777).toBe(0o644);
  });

  it('puts a single file at "to", or into "to/" by its name; it needs "to"', async () => {
    const src = join(dir, 'recipe/one-file');
    expect(await stageCopy({ copy: 'one-file', to: '/usr/bin/tool' }, src, join(dir, 's1'))).toEqual([
      { type: 'file', path: '/usr/bin/tool', mode: 0o755 },
    ]);
    expect(await stageCopy({ copy: 'one-file', to: '/usr/bin/' }, src, join(dir, 's2'))).toEqual([
      { type: 'file', path: '/usr/bin/one-file', mode: 0o755 },
    ]);
    await expect(stageCopy({ copy: 'one-file' }, src, join(dir, 's3'))).rejects.toSatisfy((e) => ApplErr.APPL_ERR_RECIPE_INVALID.is(e));
  });

  it('refuses destinations a build mounts over', async () => {
    await expect(stageCopy({ copy: 'one-file', to: '/run/x' }, join(dir, 'recipe/one-file'), join(dir, 's4'))).rejects.toThrow(
      /mounted over during a build/,
    );
    await expect(stageCopy({ copy: 'files', to: '/tmp' }, join(dir, 'recipe/files'), join(dir, 's5'))).rejects.toThrow(/mounted over/);
  });

  it('finds the source, skipping an optional one that is absent', async () => {
    expect(await copySource({ copy: 'files' }, join(dir, 'recipe'))).toBe(join(dir, 'recipe/files'));
    expect(await copySource({ copy: 'nope', optional: true }, join(dir, 'recipe'))).toBeUndefined();
    await expect(copySource({ copy: 'nope' }, join(dir, 'recipe'))).rejects.toThrow(/does not exist/);
  });

  it('stages the layer marker', async () => {
    const stage = join(dir, 'marker');
    expect(await stageMarker({ name: 'app', version: '1.0.0', kind: 'appliance' }, stage)).toEqual([
      { type: 'file', path: '/etc/storm/layers/app', mode: 0o644 },
    ]);
    expect(await readFile(join(stage, 'etc/storm/layers/app'), 'utf8')).toBe('name=app\nversion=1.0.0\nkind=appliance\n');
  });
});
