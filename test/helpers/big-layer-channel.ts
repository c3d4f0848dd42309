/**
 * A channel source with one large appliance layer (random bytes behind the squashfs magic: never
 * booted, only pulled), stacked on the fixture's tiny OS layer; for resume tests and pull benchmarks.
 *
 * @example
 * const src = await bigLayerSource(dir, 256 * 1024 * 1024);
 * const ch = await publishChannel({ src });
 */
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { once } from 'node:events';
import { FIXTURE_CHANNEL_SRC } from './channel-fixture.js';

export interface BigLayerOptions {
  /** Stack on the real tiny-os, kernel and initrd of `npm run build:appliances` (bootable), not the fixture's fakes. */
  readonly realOs?: string;
}

export async function bigLayerSource(dir: string, bytes: number, name = 'big-app', opts: BigLayerOptions = {}): Promise<string> {
  const src = join(dir, 'src');
  const app = join(src, `${name}-1.0.0`);
  await mkdir(app, { recursive: true });
  const out = createWriteStream(join(app, 'big.squashfs'));
  out.write(Buffer.from('hsqs'));
  for (let left = bytes - 4; left > 0; ) {
    const n = Math.min(left, 4 * 1024 * 1024);
    if (!out.write(randomBytes(n))) await once(out, 'drain');
    left -= n;
  }
  out.end();
  await once(out, 'finish');
  const shared = join(FIXTURE_CHANNEL_SRC, '_common', 'tiny-os');
  const os = opts.realOs
    ? {
        kind: 'os',
        file: join(opts.realOs, 'layers/tiny-os.squashfs'),
        kernel: join(opts.realOs, 'vmlinuz'),
        initrd: join(opts.realOs, 'initrd.img'),
      }
    : { kind: 'os', dir: join(shared, 'root'), kernel: join(shared, 'vmlinuz'), initrd: join(shared, 'initrd.img') };
  await writeFile(
    join(app, 'manifest.json'),
    JSON.stringify({
      name,
      version: '1.0.0',
      title: 'Big appliance',
      description: 'One large layer, for pull tests.',
      released: '2024-01-01',
      memoryMiB: 128,
      vcpus: 1,
      layers: [os, { kind: 'appliance', file: 'big.squashfs' }],
    }),
  );
  return src;
}
