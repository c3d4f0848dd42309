import { lstat, mkdir, mkdtemp, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBusybox } from './busybox.js';
import { ApplErr } from './errors.js';
import { APPLIANCES_DIR, LAYER_TARGETS, loadLayerSource, stageLayer } from './layers.js';

describe('layer sources', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'layers-test-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loads every shipped layer, each with its marker', async () => {
    const names = [];
    for (const t of LAYER_TARGETS) names.push((await loadLayerSource(join(APPLIANCES_DIR, t.source))).meta);
    expect(names.map((m) => `${m.name}@${m.version}:${m.kind}`)).toEqual([
      'tiny-os@1.0.0:os',
      'hello-web@1.0.0:appliance',
      'hello-web@1.1.0:appliance',
    ]);
  });

  it('refuses a source without its marker or with a bad layer.json', async () => {
    const src = join(dir, 'bad');
    await mkdir(join(src, 'rootfs/etc'), { recursive: true });
    await writeFile(join(src, 'layer.json'), JSON.stringify({ name: 'bad', version: '1', kind: 'appliance' }));
    await expect(loadLayerSource(src)).rejects.toSatisfy(
      (e) => ApplErr.APPL_ERR_LAYER_INVALID.is(e) && /marker/.test((e as Error).message),
    );
    await writeFile(join(src, 'layer.json'), JSON.stringify({ name: 'Bad Name', version: '1', kind: 'appliance' }));
    await expect(loadLayerSource(src)).rejects.toSatisfy((e) => ApplErr.APPL_ERR_LAYER_INVALID.is(e));
    await writeFile(join(src, 'layer.json'), JSON.stringify({ name: 'bad', version: '1', kind: 'appliance', dirs: { '../x': '0755' } }));
    await mkdir(join(src, 'rootfs/etc/storm/layers'), { recursive: true });
    await writeFile(join(src, 'rootfs/etc/storm/layers/bad'), '');
    await expect(loadLayerSource(src)).rejects.toThrow(/bad dirs entry/);
  });

  it('stages tiny-os with busybox, relative applet links and the declared directories', async () => {
    const src = await loadLayerSource(join(APPLIANCES_DIR, 'substrates/tiny-os'));
    const stage = join(dir, 'stage');
    await stageLayer(src, stage, await loadBusybox());
    expect(await readlink(join(stage, 'sbin/init'))).toBe('../bin/busybox');
    expect((await lstat(join(stage, 'tmp'))).mode & 0o7777).toBe(0o1777);
    expect((await lstat(join(stage, 'etc/init.d/rcS'))).mode & 0o7777).toBe(0o755);
    expect((await lstat(join(stage, 'etc/storm/services.d'))).isDirectory()).toBe(true);
    expect(await readFile(join(stage, 'etc/inittab'), 'utf8')).toMatch(/::sysinit:\/etc\/init.d\/rcS/);
  });
});
