/**
 * Checks of the built guest artifacts in appliances/build/ (skipped until `npm run
 * build:appliances` has run): the initrd holds what /init needs, images are reproducible, and the
 * manifest tells the truth.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBusybox } from './busybox.js';
import { readCpio } from './cpio.js';
import { isStaticElf } from './elf.js';
import { initrdImage } from './initrd.js';
import { moduleName, NEEDED_MODULES } from './kernel-modules.js';
import { APPLIANCES_DIR, buildLayer, LAYER_TARGETS, loadLayerSource } from './layers.js';
import type { Manifest } from './manifest.js';

const BUILD = join(APPLIANCES_DIR, 'build');
const built = existsSync(join(BUILD, 'manifest.json'));
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe.skipIf(!built)('built artifacts in appliances/build', () => {
  let tmp: string;
  let release: string;
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'artifacts-test-'));
    release = (await readFile(join(BUILD, 'kernel-version'), 'utf8')).trim();
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('initrd.img holds /init, the static busybox, the layer logic and exactly the needed modules', async () => {
    const entries = readCpio(gunzipSync(await readFile(join(BUILD, 'initrd.img'))));
    const byPath = new Map(entries.map((e) => [e.path, e]));
    const init = byPath.get('init');
    expect(init?.type === 'file' && init.mode).toBe(0o755);
    expect(init?.type === 'file' && init.data.toString().startsWith('#!/bin/sh\n')).toBe(true);
    const bb = byPath.get('bin/busybox');
    expect(bb?.type === 'file' && isStaticElf(bb.data)).toBe(true);
    expect(byPath.get('bin/sh')).toEqual({ type: 'symlink', path: 'bin/sh', target: 'busybox' });
    expect(byPath.get('sbin/switch_root')).toMatchObject({ type: 'symlink', target: '../bin/busybox' });
    expect(byPath.get('dev/console')).toMatchObject({ type: 'char', major: 5, minor: 1 });
    expect(byPath.has('lib/storm/layers.sh')).toBe(true);

    const order = byPath.get(`lib/modules/${release}/load-order`);
    expect(order?.type).toBe('file');
    const listed = order?.type === 'file' ? order.data.toString().trim().split('\n') : [];
    expect(listed.map(moduleName)).toEqual(expect.arrayContaining([...NEEDED_MODULES]));
    const kos = entries.filter((e) => e.path.endsWith('.ko')).map((e) => e.path.split('/').pop());
    expect(kos.sort()).toEqual([...listed].sort());
    for (const e of entries) {
      // Uncompressed modules: ELF relocatable objects.
      if (e.type === 'file' && e.path.endsWith('.ko')) expect(e.data.readUInt32BE(0)).toBe(0x7f454c46);
    }
  });

  it('initrd.img is reproducible: two builds from the same inputs give the same bytes', async () => {
    const inputs = { busybox: await loadBusybox(), release, modulesDir: join(BUILD, 'modules') };
    const a = await initrdImage(inputs);
    const b = await initrdImage(inputs);
    expect(sha256(a)).toBe(sha256(b));
  });

  it('every layer image is reproducible: two builds give the same sha256', async () => {
    const busybox = await loadBusybox();
    for (const target of LAYER_TARGETS) {
      const src = await loadLayerSource(join(APPLIANCES_DIR, target.source));
      const name = target.output.replace(/\W/g, '_');
      await buildLayer(src, join(tmp, `${name}.1`), join(tmp, 'stage'), busybox);
      await buildLayer(src, join(tmp, `${name}.2`), join(tmp, 'stage'), busybox);
      const [one, two] = await Promise.all([readFile(join(tmp, `${name}.1`)), readFile(join(tmp, `${name}.2`))]);
      expect(sha256(one), target.output).toBe(sha256(two));
    }
  });

  it('manifest.json matches the files on disk', async () => {
    const manifest = JSON.parse(await readFile(join(BUILD, 'manifest.json'), 'utf8')) as Manifest;
    expect(manifest.kernel.release).toBe(release);
    expect(manifest.layers.map((l) => l.file)).toEqual(LAYER_TARGETS.map((t) => t.output));
    for (const a of [manifest.kernel, manifest.initrd, ...manifest.layers]) {
      expect(sha256(await readFile(join(BUILD, a.file))), a.file).toBe(a.sha256);
    }
  });
});
