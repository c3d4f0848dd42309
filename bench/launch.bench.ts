/**
 * Launch overhead: API call to domain running, layers cached on the manager and staged on the
 * host, guest boot excluded; median of 10 for a 16 MiB and a 2 GiB appliance (goal: ratio at most
 * 1.2, the cost must not grow with the appliance). In the same run, a full-copy launch of the
 * 2 GiB image (copy, define, start) as the baseline, and the host disk each extra instance adds.
 */
import { copyFile, readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { LibvirtDriver } from '../stormd/src/hypervisor/libvirt-driver.js';
import { ensureLibvirtd, makeVmDir } from '../test/harness/libvirtd.js';
import { bigLayerSource } from '../test/helpers/big-layer-channel.js';
import { publishChannel } from '../test/helpers/channel-fixture.js';
import { startManager } from '../test/helpers/manager-process.js';
import { stopAllProcesses } from '../test/helpers/process.js';
import { startStormd } from '../test/helpers/stormd-process.js';
import { type Benchmark, median, du } from './harness.js';

const BUILD = resolve(import.meta.dirname, '../appliances/build');
const ROUNDS = Number(process.env['BENCH_LAUNCH_ROUNDS'] ?? 10);
const MiB = 1024 * 1024;
const SIZES = [
  { name: 'small-app', bytes: 16 * MiB },
  { name: 'large-app', bytes: 2048 * MiB },
];

export const benchmark: Benchmark = {
  name: 'launch',
  describe: `launch overhead, 16 MiB vs 2 GiB appliance, median of ${ROUNDS}, vs a full-copy launch`,
  async run(report) {
    const lv = await ensureLibvirtd();
    const dir = await makeVmDir('storm-bench-launch-');
    const driver = new LibvirtDriver(lv.uri, { pollMs: 100 });
    await driver.connect();
    try {
      for (const s of SIZES) await bigLayerSource(dir.path, s.bytes, s.name, { realOs: BUILD });
      const channel = await publishChannel({ src: join(dir.path, 'src') });
      const m = await startManager(join(dir.path, 'manager'), ['--channel-allow', '127.0.0.0/8']);
      const host = await startStormd(m, { name: 'bench-host', dir: dir.path, hypervisor: lv.uri });
      await m.api.post('/channels', { url: channel.feedUrl, publicKey: channel.publicKey });
      const medians: Record<string, number> = {};
      const times = new Map<string, number[]>(SIZES.map((s) => [s.name, []]));
      let instanceBytes = 0;
      for (const s of SIZES) {
        await m.api.post(`/appliances/${s.name}/1.0.0/pull`);
        // The first launch stages the layers on the host; measured launches find them there.
        const warm = await m.api.post<{ id: string }>('/instances', { appliance: s.name, name: `${s.name}-warm` });
        await m.api.delete(`/instances/${warm.id}`);
      }
      // Interleaved, so a busy moment of the machine weighs on both sizes alike.
      for (let i = 0; i < ROUNDS; i++) {
        for (const s of SIZES) {
          const t = performance.now();
          const inst = await m.api.post<{ id: string; state: string }>('/instances', { appliance: s.name, name: `${s.name}-${i}` });
          times.get(s.name)!.push(performance.now() - t);
          if (inst.state !== 'running') throw new Error(`${s.name}-${i} is ${inst.state}`);
          instanceBytes = await du(join(host.data, 'instances', inst.id));
          await m.api.delete(`/instances/${inst.id}`);
        }
      }
      for (const s of SIZES) {
        medians[s.name] = median(times.get(s.name)!);
        report({
          metric: `launch ${s.name} (${s.bytes / MiB} MiB)`,
          value: medians[s.name]!,
          unit: 'ms',
          note: `API call to running, median of ${ROUNDS}`,
        });
      }
      report({ metric: 'ratio 2 GiB / 16 MiB', value: medians['large-app']! / medians['small-app']!, unit: 'x', note: 'goal <= 1.2' });

      // Baseline: a traditional appliance copies its image per instance before define and start.
      const layers = join(host.data, 'layers');
      const big = (await Promise.all((await readdir(layers)).map(async (f) => ({ f, size: (await stat(join(layers, f))).size })))).find(
        (x) => x.size === 2048 * MiB,
      )!;
      const copies: number[] = [];
      for (let i = 0; i < 3; i++) {
        const copy = join(dir.path, `full-copy-${i}.img`);
        const t = performance.now();
        await copyFile(join(layers, big.f), copy);
        const name = `storm-bench-copy-${randomUUID().slice(0, 8)}`;
        await driver.define({
          name,
          uuid: randomUUID(),
          memoryMiB: 128,
          vcpus: 1,
          boot: { kernel: join(BUILD, 'vmlinuz'), initrd: join(BUILD, 'initrd.img'), cmdline: 'console=ttyS0 panic=-1' },
          disks: [{ path: copy, format: 'raw', readonly: false }],
          nics: [],
          consoleLog: join(dir.path, `${name}.log`),
        });
        await driver.start(name);
        copies.push(performance.now() - t);
        await driver.destroy(name);
        await driver.undefine(name);
        await import('node:fs/promises').then((fs) => fs.rm(copy));
      }
      report({
        metric: 'full-copy launch of the 2 GiB image (copy, define, start)',
        value: median(copies),
        unit: 'ms',
        note: 'median of 3',
      });
      report({
        metric: 'disk per extra instance (instance layer folder)',
        value: instanceBytes / 1024,
        unit: 'KiB',
        note: 'du of the host folder',
      });
      report({ metric: 'disk per extra full-copy instance', value: (2048 * MiB) / 1024, unit: 'KiB', note: 'the whole image' });
      await channel.close();
    } finally {
      await stopAllProcesses();
      await driver.close();
      await dir.remove();
      await lv.stop();
    }
  },
};
