/**
 * Builds every guest artifact into one output directory, each step skipped when up to date:
 * kernel package → kernel (vmlinuz, modules/) → initrd.img → layers/*.squashfs → manifest.json.
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { loadBusybox } from './busybox.js';
import { binaryClosure, hostFilesDigest } from './host-binaries.js';
import { buildInitrd, INITRD_SRC } from './initrd.js';
import { debFileName, extractKernel, fetchDeb, readKernelRelease, resolveKernelPackage } from './kernel.js';
import { NEEDED_MODULES } from './kernel-modules.js';
import { APPLIANCES_DIR, buildLayer, LAYER_TARGETS, loadLayerSource } from './layers.js';
import { describeFile, makeManifest, writeManifest } from './manifest.js';
import { MKSQUASHFS_OPTIONS, mksquashfsVersion } from './squashfs.js';
import { codeHash, fingerprintOf, runStep, type Step } from './step.js';
import { hashTree } from './tree.js';
import { withBuildLock } from './lock.js';
import { buildDebianAppliances } from './builder/debian.js';
import { buildCloudImage } from './cloud-image.js';
import { DEFAULT_SAMPLE_CHANNEL_URL, publishSampleChannel, SAMPLE_APPLIANCES, sampleChannelInputs } from './sample-channel.js';

export interface BuildOptions {
  /** Output directory (absolute). */
  readonly out: string;
  readonly force: boolean;
  readonly log: (line: string) => void;
  /** Also the Debian substrate and its appliances, from their recipes. */
  readonly debian?: boolean;
}

export interface BuildResult {
  readonly built: number;
  readonly fresh: number;
}

export function buildAppliances(opts: BuildOptions): Promise<BuildResult> {
  return withBuildLock(opts.out, () => buildLocked(opts), opts.log);
}

async function buildLocked(opts: BuildOptions): Promise<BuildResult> {
  const { out } = opts;
  const ctx = { stampDir: join(out, '.stamps'), force: opts.force, log: opts.log };
  const cacheDir = join(out, 'cache');
  const counts = { built: 0, fresh: 0 };
  const step = async (s: Step): Promise<void> => {
    counts[(await runStep(s, ctx)) === 'built' ? 'built' : 'fresh']++;
  };

  const pkg = await resolveKernelPackage();
  const deb = join(cacheDir, debFileName(pkg));
  await step({
    name: 'kernel-package',
    outputs: [deb],
    fingerprint: async () => fingerprintOf(pkg),
    build: async () => {
      await fetchDeb(cacheDir, pkg);
      return `${pkg.name} ${pkg.version} in cache/`;
    },
  });

  await step({
    name: 'kernel',
    outputs: [join(out, 'vmlinuz'), join(out, 'modules/load-order'), join(out, 'kernel-version')],
    fingerprint: async () => fingerprintOf({ pkg, NEEDED_MODULES, code: await codeHash('kernel.ts', 'kernel-modules.ts') }),
    build: async () => {
      const k = await extractKernel(deb, out, join(out, '.work/kernel'));
      return `${k.release}, ${k.modules.length} modules`;
    },
  });
  const release = await readKernelRelease(out);

  const busybox = await loadBusybox();
  const initrdInputs = { busybox, release, modulesDir: join(out, 'modules') };
  await step({
    name: 'initrd',
    outputs: [join(out, 'initrd.img')],
    fingerprint: async () =>
      fingerprintOf({
        release,
        busybox: busybox.sha256,
        modules: await hashTree(initrdInputs.modulesDir),
        src: await hashTree(INITRD_SRC),
        code: await codeHash('initrd.ts', 'cpio.ts', 'busybox.ts'),
      }),
    build: async () => `${(await buildInitrd(initrdInputs, join(out, 'initrd.img'))) >> 10} KiB`,
  });

  const tool = await mksquashfsVersion();
  const layers = [];
  for (const target of LAYER_TARGETS) {
    const src = await loadLayerSource(join(APPLIANCES_DIR, target.source));
    layers.push({ output: target.output, meta: src.meta });
    const id = target.output.replace(/^layers\//, '').replace(/\.squashfs$/, '');
    await step({
      name: `layer ${id}`,
      outputs: [join(out, target.output)],
      fingerprint: async () =>
        fingerprintOf({
          src: await hashTree(src.dir),
          files: await Promise.all(Object.values(src.meta.files ?? {}).map((f) => readFile(join(APPLIANCES_DIR, f), 'utf8'))),
          busybox: src.meta.busybox ? busybox.sha256 : null,
          binaries: src.meta.binaries?.length ? await hostFilesDigest(await binaryClosure(src.meta.binaries)) : null,
          tool,
          options: MKSQUASHFS_OPTIONS,
          code: await codeHash('layers.ts', 'squashfs.ts', 'tree.ts', 'busybox.ts', 'host-binaries.ts'),
        }),
      build: async () => {
        await buildLayer(src, join(out, target.output), join(out, '.work', `layer-${id}`), busybox);
        return `${src.meta.name} ${src.meta.version}`;
      },
    });
  }

  // --debian: minutes the first time (debootstrap, apt), then each layer is skipped while its inputs hold.
  const debian = opts.debian ? await buildDebianAppliances({ out, force: opts.force, log: opts.log }) : undefined;
  // Their own records (layers/<name>.json) describe them; manifest.json stays the busybox artifacts'.
  if (debian) {
    counts.built += debian.built;
    counts.fresh += debian.fresh;
  }
  // --debian also makes debian-cloud, a traditional appliance (one bootable qcow2 with cloud-init).
  const cloud = opts.debian ? await buildCloudImage({ out, force: opts.force, log: opts.log }) : undefined;
  if (cloud) counts[cloud.built ? 'built' : 'fresh'] += 1;
  const extraManifests = [...(debian?.manifests ?? []), ...(cloud ? [cloud.manifest] : [])];

  const baseUrl = process.env['STORM_SAMPLE_CHANNEL_URL'] || DEFAULT_SAMPLE_CHANNEL_URL;
  await step({
    name: 'sample channel',
    outputs: [join(out, 'channel/channel.xml'), join(out, 'channel/channel.xml.sig'), join(out, 'publisher.pub')],
    fingerprint: async () =>
      fingerprintOf({
        baseUrl,
        samples: await sampleChannelInputs(),
        layers: await Promise.all(
          ['layers/tiny-os.squashfs', ...SAMPLE_APPLIANCES.map((s) => s.layer), 'vmlinuz', 'initrd.img'].map(
            async (f) => (await describeFile(out, f)).sha256,
          ),
        ),
        code: await codeHash('sample-channel.ts'),
        // Only with --debian, so the busybox-only channel keeps its fingerprint.
        ...(debian
          ? {
              debian: {
                layers: debian.layers.map((l) => l.sha256),
                manifests: await Promise.all(debian.manifests.map((f) => readFile(f, 'utf8'))),
                cloud: cloud ? await readFile(`${cloud.image}.inputs`, 'utf8') : null,
              },
            }
          : {}),
      }),
    build: () =>
      publishSampleChannel({
        artifacts: out,
        channelDir: join(out, 'channel'),
        keyDir: out,
        baseUrl,
        log: opts.log,
        extraManifests,
      }),
  });

  const manifest = await makeManifest(out, { kernelPackage: pkg, release, layers });
  await step({
    name: 'manifest',
    outputs: [join(out, 'manifest.json')],
    fingerprint: async () => fingerprintOf(manifest),
    build: async () => {
      await writeManifest(out, manifest);
      return '';
    },
  });
  // The manifest's own freshness is by content; make sure what is on disk is what we computed.
  if (JSON.stringify(JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'))) !== JSON.stringify(manifest)) {
    await writeManifest(out, manifest);
  }
  await rm(join(out, '.work'), { recursive: true, force: true });
  return counts;
}
