import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApplErr } from '../errors.js';
import { channelManifest, formatSize, writeChannelManifest, type StackLayer } from './channel-src.js';
import type { Recipe } from './recipe.js';

const layers: StackLayer[] = [
  { name: 'os', version: '1.0.0', kind: 'os', file: '/o/layers/os.squashfs', size: 1, sha256: 'a'.repeat(64) },
  { name: 'app', version: '2.0.0', kind: 'appliance', file: '/o/layers/app.squashfs', size: 1, sha256: 'b'.repeat(64) },
];
const recipe = {
  name: 'app',
  version: '2.0.0',
  kind: 'appliance',
  channel: {
    title: 'App',
    description: 'd',
    released: '2026-11-21',
    memoryMiB: 64,
    vcpus: 1,
    parameters: [],
    config: [{ key: 'k', value: '{{nope}}' }],
    records: [],
  },
} as unknown as Recipe;

describe('channel manifests', () => {
  let out: string;
  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'channel-src-test-'));
  });
  afterAll(async () => {
    await rm(out, { recursive: true, force: true });
  });

  it('formats sizes for people', () => {
    expect([formatSize(100), formatSize(831_488), formatSize(29_876_224)]).toEqual(['1 KiB', '812 KiB', '28.5 MiB']);
  });

  it('lists the stack bottom to top, boot files on the OS layer', () => {
    const m = channelManifest(recipe, layers, { kernel: '/b/vmlinuz', initrd: '/b/initrd.img' });
    expect(m.layers).toEqual([
      { kind: 'os', file: '/o/layers/os.squashfs', kernel: '/b/vmlinuz', initrd: '/b/initrd.img' },
      { kind: 'appliance', file: '/o/layers/app.squashfs' },
    ]);
    expect(m).toMatchObject({ name: 'app', version: '2.0.0', title: 'App', memoryMiB: 64 });
  });

  it('checks it as storm-channel would, before anyone publishes it', async () => {
    const bad = channelManifest(recipe, layers, { kernel: '/b/vmlinuz', initrd: '/b/initrd.img' });
    await expect(writeChannelManifest(out, bad)).rejects.toSatisfy(
      (e) => ApplErr.APPL_ERR_RECIPE_INVALID.is(e) && /nope/.test((e as Error).message),
    );
    const good = { ...bad, config: [{ key: 'k', value: '{{instance.fqdn}}' }] };
    const dir = await writeChannelManifest(out, good);
    expect(dir).toBe(join(out, 'channel-src/app-2.0.0'));
    expect(JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'))).toEqual(good);
  });
});
