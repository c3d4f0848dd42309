/**
 * Publishes the sample appliances as a channel: `<out>/channel/` (feed, signature, descriptors,
 * files by sha256) signed with the sample publisher key `<out>/publisher.key`, whose public half
 * `<out>/publisher.pub` sits beside the channel for subscribers to pin. Each sample's channel
 * metadata is its `appliance.json`; its layers are the built tiny-os and its own squashfs.
 *
 * @example
 * await publishSampleChannel({ artifacts: out, channelDir: join(out, 'channel'), keyDir: out, baseUrl: 'http://127.0.0.1:8090/', log });
 * // then: storm-channel serve appliances/build/channel --port 8090
 */
import { randomBytes } from 'node:crypto';
import { access, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildChannel, generatePublisherKey } from '../../channels/src/index.js';
import { APPLIANCES_DIR } from './layers.js';

/** Where the sample channel expects to be served; `STORM_SAMPLE_CHANNEL_URL` moves it. */
export const DEFAULT_SAMPLE_CHANNEL_URL = 'http://127.0.0.1:8090/';

export interface SampleAppliance {
  /** Folder under `appliances/` holding `appliance.json`. */
  readonly source: string;
  readonly name: string;
  readonly version: string;
  /** Its layer image, relative to the build output. */
  readonly layer: string;
}

export const SAMPLE_APPLIANCES: readonly SampleAppliance[] = [
  { source: 'samples/hello-web/1.0.0', name: 'hello-web', version: '1.0.0', layer: 'layers/hello-web.squashfs' },
  { source: 'samples/hello-web/1.1.0', name: 'hello-web', version: '1.1.0', layer: 'layers/hello-web-1.1.0.squashfs' },
];

/** The inputs that decide the channel's bytes, for the build step's fingerprint. */
export async function sampleChannelInputs(): Promise<string[]> {
  return Promise.all(SAMPLE_APPLIANCES.map((s) => readFile(join(APPLIANCES_DIR, s.source, 'appliance.json'), 'utf8')));
}

export interface PublishSampleOptions {
  /** The build output holding vmlinuz, initrd.img and layers/. */
  readonly artifacts: string;
  /** The channel directory to write. */
  readonly channelDir: string;
  /** Holds publisher.key and publisher.pub (made on first use). */
  readonly keyDir: string;
  readonly baseUrl: string;
  readonly log: (line: string) => void;
  /** Channel manifests built elsewhere (layer paths absolute), e.g. the Debian appliances of `--debian`. */
  readonly extraManifests?: readonly string[];
}

export async function publishSampleChannel(opts: PublishSampleOptions): Promise<string> {
  const { artifacts: out, baseUrl, log } = opts;
  const keyPath = join(opts.keyDir, 'publisher.key');
  if (
    !(await access(keyPath).then(
      () => true,
      () => false,
    ))
  )
    await generatePublisherKey(opts.keyDir);
  const src = join(opts.channelDir, '..', `.${randomBytes(4).toString('hex')}.channel-src`);
  await rm(src, { recursive: true, force: true });
  await mkdir(src, { recursive: true });
  await writeFile(
    join(src, 'channel.json'),
    JSON.stringify({ title: 'STORM samples', description: 'The sample appliances built by npm run build:appliances.' }),
  );
  for (const s of SAMPLE_APPLIANCES) {
    const meta = JSON.parse(await readFile(join(APPLIANCES_DIR, s.source, 'appliance.json'), 'utf8')) as Record<string, unknown>;
    const dir = join(src, `${s.name}-${s.version}`);
    await mkdir(dir);
    const manifest = {
      name: s.name,
      version: s.version,
      ...meta,
      layers: [
        { kind: 'os', file: join(out, 'layers/tiny-os.squashfs'), kernel: join(out, 'vmlinuz'), initrd: join(out, 'initrd.img') },
        { kind: 'appliance', file: join(out, s.layer) },
      ],
    };
    await writeFile(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  }
  for (const [i, file] of (opts.extraManifests ?? []).entries()) {
    await mkdir(join(src, `extra-${i}`));
    await writeFile(join(src, `extra-${i}`, 'manifest.json'), await readFile(file));
  }
  const result = await buildChannel({ src, out: opts.channelDir, baseUrl, keyPath, log: (line) => log(`  ${line}`) }).finally(() =>
    rm(src, { recursive: true, force: true }),
  );
  return `${SAMPLE_APPLIANCES.length + (opts.extraManifests?.length ?? 0)} versions at ${baseUrl}, key ${result.fingerprint}`;
}
