import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDescriptor } from '../format/descriptor.js';
import { parseFeed } from '../format/feed.js';
import { verifyFeedSignature } from '../format/signature.js';
import { buildChannel, normalizeBaseUrl } from './build.js';
import { generatePublisherKey } from './keys.js';
import { makeSquashfs } from './squashfs.js';

describe('buildChannel', () => {
  let work: string;
  let keyPath: string;
  let pub: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'chan-build-'));
    const key = await generatePublisherKey(join(work, 'key'));
    keyPath = key.privateKeyPath;
    pub = await readFile(key.publicKeyPath, 'utf8');
    // A source where one version packs a directory and another names a prebuilt image of it.
    const src = join(work, 'src');
    await mkdir(join(src, 'base', 'os', 'etc'), { recursive: true });
    await writeFile(join(src, 'base', 'os', 'etc', 'os-release'), 'ID=test\n');
    await writeFile(join(src, 'base', 'vmlinuz'), 'kernel');
    await writeFile(join(src, 'base', 'initrd'), 'initrd');
    await makeSquashfs(join(src, 'base', 'os'), join(src, 'base', 'os.squashfs'));
    const manifest = (version: string, os: object) => ({
      name: 'app',
      version,
      title: 'App',
      description: 'd',
      released: '2024-01-01',
      memoryMiB: 64,
      vcpus: 1,
      layers: [{ kind: 'os', ...os, kernel: '../base/vmlinuz', initrd: '../base/initrd' }],
    });
    for (const [v, os] of [
      ['1.0.0', { dir: '../base/os' }],
      ['2.0.0', { file: '../base/os.squashfs' }],
    ] as const) {
      await mkdir(join(src, v));
      await writeFile(join(src, v, 'manifest.json'), JSON.stringify(manifest(v, os)));
    }
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('stores a layer once whether packed from its directory or taken as a prebuilt file', async () => {
    const lines: string[] = [];
    const out = join(work, 'out');
    const r = await buildChannel({ src: join(work, 'src'), out, baseUrl: 'http://127.0.0.1:9/ch', keyPath, log: (l) => lines.push(l) });
    expect(r.files.filter((f) => f.startsWith('layers/'))).toHaveLength(1);
    expect(r.files.filter((f) => f.startsWith('boot/'))).toHaveLength(2);
    expect(r.descriptors[0]?.layers[0]?.sha256).toBe(r.descriptors[1]?.layers[0]?.sha256);
    expect(r.descriptors[0]?.layers[0]?.url).toMatch(/^http:\/\/127\.0\.0\.1:9\/ch\/layers\/[0-9a-f]{64}\.squashfs$/);
    expect(lines.some((l) => l.includes('already stored'))).toBe(true);
    expect((await readdir(out)).filter((f) => f.startsWith('.'))).toEqual([]); // temp files cleaned up

    const feedBytes = await readFile(r.feedPath);
    verifyFeedSignature(feedBytes, await readFile(r.signaturePath), pub);
    const feed = await parseFeed(feedBytes);
    expect(feed.items.map((i) => i.version)).toEqual(['2.0.0', '1.0.0']);
    for (const item of feed.items) {
      const rel = new URL(item.descriptor.url).pathname.replace('/ch/', '');
      expect(parseDescriptor(await readFile(join(out, rel)), { item })).toEqual(r.descriptors.find((d) => d.version === item.version));
    }
  });

  it('fails with CHAN_ERR_LAYER_SOURCE when a layer file is missing', async () => {
    const src = join(work, 'src-missing');
    await mkdir(join(src, 'v'), { recursive: true });
    await writeFile(
      join(src, 'v', 'manifest.json'),
      JSON.stringify({
        name: 'app',
        version: '1.0.0',
        title: 'App',
        description: 'd',
        released: '2024-01-01',
        memoryMiB: 64,
        vcpus: 1,
        layers: [{ kind: 'os', file: 'nope.squashfs', kernel: 'k', initrd: 'i' }],
      }),
    );
    await expect(buildChannel({ src, out: join(work, 'out-missing'), baseUrl: 'http://x/', keyPath })).rejects.toMatchObject({
      code: 'CHAN_ERR_LAYER_SOURCE',
      message: expect.stringContaining('nope.squashfs does not exist'),
    });
  });

  it('refuses a layer file that is not a squashfs image', async () => {
    const src = join(work, 'src-notsquash');
    await mkdir(join(src, 'v'), { recursive: true });
    await writeFile(join(src, 'v', 'disk.qcow2'), 'QFI\xfb not squashfs');
    await writeFile(
      join(src, 'v', 'manifest.json'),
      JSON.stringify({
        name: 'app',
        version: '1.0.0',
        title: 'App',
        description: 'd',
        released: '2024-01-01',
        memoryMiB: 64,
        vcpus: 1,
        layers: [{ kind: 'os', file: 'disk.qcow2', kernel: 'k', initrd: 'i' }],
      }),
    );
    await expect(buildChannel({ src, out: join(work, 'out-notsquash'), baseUrl: 'http://x/', keyPath })).rejects.toMatchObject({
      code: 'CHAN_ERR_LAYER_SOURCE',
      message: expect.stringContaining('is not a squashfs image'),
    });
  });

  it('refuses a key that is not an Ed25519 private key before doing any work', async () => {
    const bad = join(work, 'bad.key');
    await writeFile(bad, 'not a key');
    await expect(
      buildChannel({ src: join(work, 'src'), out: join(work, 'out-bad'), baseUrl: 'http://x/', keyPath: bad }),
    ).rejects.toMatchObject({ code: 'CHAN_ERR_KEY_INVALID' });
    await expect(stat(join(work, 'out-bad'))).rejects.toThrow();
  });
});

describe('normalizeBaseUrl', () => {
  it('ends the base URL with a slash and refuses what is not plain http(s)', () => {
    expect(normalizeBaseUrl('http://127.0.0.1:8080')).toBe('http://127.0.0.1:8080/');
    expect(normalizeBaseUrl('https://ch.example/stable')).toBe('https://ch.example/stable/');
    for (const bad of ['ftp://x/', '/relative', 'https://x/?q=1', 'https://u:p@x/'])
      expect(() => normalizeBaseUrl(bad)).toThrow(/base URL/);
  });
});
