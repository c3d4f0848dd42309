/**
 * The Debian substrate (`build:appliances --debian`, run first; cached): layer sizes; boot under
 * TCG on qemu:///system inside a STORM site (test/harness/storm-network.ts), from the launch call
 * to the guest agent's `applied` (storm.reportStatus) and to nginx serving, median of
 * BENCH_DEBIAN_ROUNDS (3); and the disk a host uses for ten instances, five nginx-web and five
 * postfix-mail, booted and stopped — the layers once plus ten instance layers — against ten
 * full-image copies (each appliance flattened into an ext4 image, allocated blocks).
 */
import { execFile } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { SITE, startStormNetwork, type StormNetwork } from '../test/harness/storm-network.js';
import { pollUntil } from '../test/helpers/poll.js';
import { type Benchmark, median, du } from './harness.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..');
const BUILD = join(ROOT, 'appliances/build');
const ROUNDS = Number(process.env['BENCH_DEBIAN_ROUNDS'] ?? 3);
const MiB = 1024 * 1024;
const APPS = ['nginx-web', 'postfix-mail'] as const;

interface Instance {
  id: string;
  name: string;
  guestStatus: { phase: string } | null;
}

const layerRecord = async (name: string): Promise<{ sha256: string; size: number }> =>
  JSON.parse(await readFile(join(BUILD, 'layers', `${name}.json`), 'utf8')) as { sha256: string; size: number };

const until = <T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>) => pollUntil(what, probe, { timeoutMs });

async function applied(site: StormNetwork, id: string, timeoutMs: number): Promise<void> {
  await until(`${id} applied`, timeoutMs, async () => {
    const i = await site.api.get<Instance>(`/instances/${id}`);
    if (i.guestStatus?.phase === 'failed') throw new Error(`${id}: agent failed`);
    return i.guestStatus?.phase === 'applied' ? true : undefined;
  });
}

async function consoleShows(site: StormNetwork, id: string, pattern: RegExp, timeoutMs: number): Promise<void> {
  await until(`${pattern} on ${id}`, timeoutMs, async () =>
    (await site.api.get<{ text: string }>(`/instances/${id}/console?bytes=262144`)).text.match(pattern) ? true : undefined,
  );
}

/**
 * One appliance flattened (the union of its layers) into an ext4 image, as a traditional
 * single-image appliance ships, and into a zstd squashfs like the layers, so the comparison can
 * tell sharing from compression. Returns the allocated bytes of each.
 */
async function fullImage(dir: string, app: string): Promise<{ ext4: number; squashfs: number }> {
  const img = join(dir, `${app}-full.img`);
  const sqfs = join(dir, `${app}-full.squashfs`);
  const script = [
    'set -e',
    'T=$(mktemp -d)',
    `trap 'umount "$T/u" "$T/os" "$T/app" 2>/dev/null; rm -rf "$T"' EXIT`,
    'mkdir "$T/os" "$T/app" "$T/u"',
    `mount -t squashfs -o ro,loop ${join(BUILD, 'layers/debian-jeos.squashfs')} "$T/os"`,
    `mount -t squashfs -o ro,loop ${join(BUILD, 'layers', `${app}.squashfs`)} "$T/app"`,
    'mount -t overlay overlay -o "lowerdir=$T/app:$T/os" "$T/u"',
    'size=$(( $(du -sm "$T/u" | cut -f1) * 13 / 10 + 64 ))',
    `mkfs.ext4 -q -d "$T/u" ${img} "\${size}M"`,
    `mksquashfs "$T/u" ${sqfs} -noappend -comp zstd -quiet -no-progress`,
  ].join('\n');
  await run('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script]);
  const sizes = { ext4: await du(img), squashfs: await du(sqfs) };
  await rm(img, { force: true });
  await rm(sqfs, { force: true });
  return sizes;
}

export const benchmark: Benchmark = {
  name: 'debian',
  describe: `Debian substrate: layer sizes, TCG boot to agent applied (median of ${ROUNDS}), disk of ten instances vs ten full images`,
  async run(report) {
    await run(process.execPath, ['--import', 'tsx', join(ROOT, 'appliances/src/build-cli.ts'), '--debian'], {
      cwd: ROOT,
      maxBuffer: 64 << 20,
    });
    const os = await layerRecord('debian-jeos');
    report({ metric: 'debian-jeos layer', value: os.size / MiB, unit: 'MiB', note: 'zstd squashfs' });
    for (const app of APPS) {
      const r = await layerRecord(app);
      report({
        metric: `${app} layer`,
        value: r.size / MiB,
        unit: 'MiB',
        note: `${((100 * r.size) / os.size).toFixed(1)}% of the OS layer`,
      });
    }

    const site = await startStormNetwork({
      channelDir: join(BUILD, 'channel'),
      publicKey: await readFile(join(BUILD, 'publisher.pub'), 'utf8'),
    });
    try {
      await site.api.post('/channels', { url: site.feedUrl, publicKey: site.publicKey });
      const toApplied: number[] = [];
      const toServing: number[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        const t0 = performance.now();
        const inst = await site.api.post<Instance>('/instances', { appliance: 'nginx-web', version: '1.0.0', name: `boot${i}` });
        await applied(site, inst.id, 600_000);
        toApplied.push(performance.now() - t0);
        await consoleShows(site, inst.id, /nginx-web: nginx serving/, 120_000);
        toServing.push(performance.now() - t0);
        await site.api.delete(`/instances/${inst.id}`);
      }
      report({
        metric: 'launch → agent reported applied',
        value: median(toApplied) / 1000,
        unit: 's',
        note: `nginx-web on debian-jeos, TCG, median of ${ROUNDS} (layers already staged after the first)`,
      });
      report({ metric: 'launch → nginx serving', value: median(toServing) / 1000, unit: 's', note: `median of ${ROUNDS}` });

      // Ten instances across the two appliances, all up at once, then stopped so their layers are final.
      const ten: Instance[] = [];
      for (let i = 0; i < 5; i++)
        for (const app of APPS)
          ten.push(
            await site.api.post<Instance>('/instances', {
              appliance: app,
              version: '1.0.0',
              name: `${app === 'nginx-web' ? 'web' : 'mx'}${i}`,
            }),
          );
      for (const inst of ten) await applied(site, inst.id, 1_800_000);
      for (const inst of ten) await site.api.post(`/instances/${inst.id}/actions`, { action: 'stop' });
      let layers = 0;
      for (const name of ['debian-jeos', ...APPS]) layers += await du(join(site.stormdData, 'layers', (await layerRecord(name)).sha256));
      let instances = 0;
      // The whole instance folder: its writable layer(s), console log and metadata.
      for (const inst of ten) instances += await du(join(site.stormdData, 'instances', inst.id));
      const layered = layers + instances;
      report({
        metric: 'ten instances, layered: shared layers',
        value: layers / MiB,
        unit: 'MiB',
        note: 'debian-jeos + nginx-web + postfix-mail, once each',
      });
      report({
        metric: 'ten instances, layered: instance layers',
        value: instances / MiB,
        unit: 'MiB',
        note: `10 instance folders after a boot, ${(instances / 10 / MiB).toFixed(1)} MiB each`,
      });
      const nginx = await fullImage(site.dir.path, 'nginx-web');
      const postfix = await fullImage(site.dir.path, 'postfix-mail');
      const copies = 5 * nginx.ext4 + 5 * postfix.ext4;
      const squashed = 5 * nginx.squashfs + 5 * postfix.squashfs;
      report({ metric: 'ten instances, layered: total', value: layered / MiB, unit: 'MiB', note: `in ${SITE.network}'s host store` });
      report({
        metric: 'ten full-image copies (ext4)',
        value: copies / MiB,
        unit: 'MiB',
        note: `5 × ${(nginx.ext4 / MiB).toFixed(0)} + 5 × ${(postfix.ext4 / MiB).toFixed(0)} MiB, allocated`,
      });
      report({
        metric: 'ten full-image copies (zstd squashfs)',
        value: squashed / MiB,
        unit: 'MiB',
        note: `5 × ${(nginx.squashfs / MiB).toFixed(1)} + 5 × ${(postfix.squashfs / MiB).toFixed(1)} MiB: compression alone`,
      });
      report({ metric: 'layered / full copies (ext4)', value: layered / copies, unit: 'ratio' });
      report({
        metric: 'layered / full copies (squashfs)',
        value: layered / squashed,
        unit: 'ratio',
        note: 'what sharing the OS layer saves',
      });
      for (const inst of ten) await site.api.delete(`/instances/${inst.id}`).catch(() => undefined);
    } finally {
      await site.cleanup();
    }
  },
};
