import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadChannelSource } from './manifest.js';

const valid = {
  name: 'hello-web',
  version: '1.0.0',
  title: 'Hello web',
  description: 'Says hello.',
  released: '2024-01-15',
  memoryMiB: 128,
  vcpus: 1,
  layers: [
    { kind: 'os', dir: 'os', kernel: 'vmlinuz', initrd: 'initrd.img' },
    { kind: 'appliance', dir: 'rootfs' },
  ],
};

describe('loadChannelSource', () => {
  let src: string;
  beforeEach(async () => {
    src = await mkdtemp(join(tmpdir(), 'chan-src-'));
  });
  afterEach(async () => {
    await rm(src, { recursive: true, force: true });
  });
  const put = async (folder: string, manifest: unknown): Promise<string> => {
    await mkdir(join(src, folder), { recursive: true });
    const file = join(src, folder, 'manifest.json');
    await writeFile(file, typeof manifest === 'string' ? manifest : JSON.stringify(manifest));
    return file;
  };
  const problems = async (): Promise<string> => {
    try {
      await loadChannelSource(src);
    } catch (err) {
      return `${(err as { code: string }).code} ${(err as Error).message}`;
    }
    throw new Error('expected loadChannelSource to fail');
  };

  it('reads every version folder with a manifest, skips others, fills defaults', async () => {
    await put('b-1.0.0', valid);
    await put('a-1.1.0', { ...valid, version: '1.1.0', upgradesFrom: '1.0.0' });
    await mkdir(join(src, 'shared-layers'));
    const s = await loadChannelSource(src);
    expect(s.versions.map((v) => v.manifest.version)).toEqual(['1.1.0', '1.0.0']);
    expect(s.versions[1]?.manifest.parameters).toEqual([]);
    expect(s.meta.title).toBe('STORM channel');
  });

  it('names the file and the field of every schema problem', async () => {
    const file = await put('x', { ...valid, name: 'Bad Name', memoryMiB: 1.5, extra: true, layers: [{ kind: 'kernel', dir: 'x' }] });
    const msg = await problems();
    expect(msg).toMatch(/^CHAN_ERR_MANIFEST_INVALID/);
    expect(msg).toContain(`${file}: /name: must match pattern`);
    expect(msg).toContain(`${file}: /memoryMiB: must be integer`);
    expect(msg).toContain(`${file}: /: unknown field(s) "extra"`);
    expect(msg).toContain(`${file}: /layers/0/kind: must be one of os, appliance, deployment`);
  });

  it.each([
    [
      'both dir and file',
      { layers: [{ kind: 'os', dir: 'a', file: 'b', kernel: 'k', initrd: 'i' }] },
      /\/layers\/0: give exactly one of "dir"/,
    ],
    [
      'no os layer at the bottom',
      { layers: [{ kind: 'appliance', dir: 'a' }] },
      /\/layers\/0\/kind: the bottom layer must be the os layer/,
    ],
    ['an os layer without boot files', { layers: [{ kind: 'os', dir: 'a' }] }, /\/layers\/0: the os layer must name its kernel and initrd/],
    ['a kernel without initrd', { layers: [{ kind: 'os', dir: 'a', kernel: 'k' }] }, /"kernel" and "initrd" come together/],
    [
      'deployment below appliance',
      { layers: [valid.layers[0], { kind: 'deployment', dir: 'd' }, { kind: 'appliance', dir: 'a' }] },
      /\/layers\/2\/kind: appliance cannot sit above deployment/,
    ],
    ['upgradesFrom not older', { upgradesFrom: '1.0.0' }, /\/upgradesFrom: 1.0.0 is not older than 1.0.0/],
    ['a bad date', { released: '2024-02-30' }, /\/released: 2024-02-30 is not a calendar date/],
    [
      'a default of the wrong type',
      { parameters: [{ name: 'port', type: 'integer', default: 'eighty', description: 'd' }] },
      /\/parameters\/0\/default: must be an integer/,
    ],
    ['a template naming nothing', { config: [{ key: 'k', value: '{{nope}}' }] }, /\/config\/0\/value: placeholder \{\{nope\}\}/],
    [
      'an SRV record without port',
      { records: [{ type: 'SRV', name: '_x._tcp', value: '{{instance.fqdn}}', priority: 1, weight: 1 }] },
      /\/records\/0\/port: required for SRV/,
    ],
    ['a Kerberos service that is no name', { principals: ['HTTP/x'] }, /\/principals\/0/],
    ['host/ as a Kerberos service', { principals: ['HTTP', 'host'] }, /\/principals\/1: host is reserved/],
  ])('rejects %s', async (_label, patch, pattern) => {
    const file = await put('v', { ...valid, ...patch });
    const msg = await problems();
    expect(msg).toContain(file);
    expect(msg).toMatch(pattern);
  });

  it('rejects broken JSON, naming the file', async () => {
    const file = await put('v', '{ "name": ');
    expect(await problems()).toContain(`${file}: not JSON`);
  });

  it('rejects the same version twice and an empty source', async () => {
    expect(await problems()).toMatch(/CHAN_ERR_SOURCE_INVALID .* has no <version folder>\/manifest.json/);
    await put('one', valid);
    await put('two', valid);
    expect(await problems()).toMatch(/CHAN_ERR_DUPLICATE_VERSION .*hello-web 1.0.0 in .*one.*two/);
  });

  it('validates channel.json', async () => {
    await put('one', valid);
    await writeFile(join(src, 'channel.json'), JSON.stringify({ title: '', description: 'd' }));
    expect(await problems()).toMatch(/channel\.json: \/title: /);
    await writeFile(join(src, 'channel.json'), JSON.stringify({ title: 'T', description: 'd', link: 'ftp://x' }));
    expect(await problems()).toMatch(/channel\.json: \/link: not an absolute http\(s\) URL/);
  });
});
