/**
 * Traditional appliances (issue 14's goals): launch of a 2 GiB disk image against a 16 MiB one, API
 * call to domain running, the image imported on the manager and staged on the host, guest boot
 * excluded (goal: ratio at most 1.2: an instance is an overlay, never a copy); median of
 * BENCH_IMAGES_ROUNDS (5), interleaved; the host disk an extra instance adds before its guest
 * writes (goal: at most 1 MiB: its overlay and its cloud-init seed). The images are sparse raw
 * files of zeros: firmware finds nothing to boot, which a launch does not wait for.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ensureLibvirtd, makeVmDir } from '../test/harness/libvirtd.js';
import { startManager } from '../test/helpers/manager-process.js';
import { stopAllProcesses } from '../test/helpers/process.js';
import { stormCli } from '../test/helpers/storm-cli.js';
import { startStormd } from '../test/helpers/stormd-process.js';
import { type Benchmark, median, du } from './harness.js';

const run = promisify(execFile);
const ROUNDS = Number(process.env['BENCH_IMAGES_ROUNDS'] ?? 5);
const SIZES = [
  { name: 'small-image', mib: 16 },
  { name: 'large-image', mib: 2048 },
];

export const benchmark: Benchmark = {
  name: 'images',
  describe: `traditional appliances: launch of a 16 MiB vs a 2 GiB disk image, median of ${ROUNDS}; disk per extra instance`,
  async run(report) {
    const lv = await ensureLibvirtd();
    const dir = await makeVmDir('storm-bench-images-');
    try {
      const m = await startManager(join(dir.path, 'manager'));
      const host = await startStormd(m, { name: 'bench-host', dir: dir.path, hypervisor: lv.uri });
      const cli = stormCli(m.url, join(dir.path, 'manager'));
      for (const s of SIZES) {
        const file = join(dir.path, `${s.name}.raw`);
        await run('truncate', ['-s', `${s.mib}M`, file]);
        const imported = await cli.run(['image', 'import', file, '--name', s.name, '--version', '1.0.0', '--memory', '128'], {
          timeoutMs: 600_000,
        });
        if (imported.code !== 0) throw new Error(`import ${s.name}: ${imported.output}`);
        // The first launch stages the image on the host; measured launches find it there.
        const warm = await m.api.post<{ id: string }>('/instances', { appliance: s.name, name: `${s.name}-warm` });
        await m.api.delete(`/instances/${warm.id}`);
      }
      const times = new Map<string, number[]>(SIZES.map((s) => [s.name, []]));
      const perInstance: number[] = [];
      // Interleaved, so a busy moment of the machine weighs on both sizes alike.
      for (let i = 0; i < ROUNDS; i++) {
        for (const s of SIZES) {
          const t = performance.now();
          const inst = await m.api.post<{ id: string; state: string }>('/instances', { appliance: s.name, name: `${s.name}-${i}` });
          times.get(s.name)!.push(performance.now() - t);
          if (inst.state !== 'running') throw new Error(`${s.name}-${i} is ${inst.state}`);
          if (s.name === 'large-image') perInstance.push(await du(join(host.data, 'instances', inst.id)));
          await m.api.delete(`/instances/${inst.id}`);
        }
      }
      const medians = Object.fromEntries(SIZES.map((s) => [s.name, median(times.get(s.name)!)]));
      for (const s of SIZES)
        report({
          metric: `launch ${s.name} (${s.mib} MiB)`,
          value: medians[s.name]!,
          unit: 'ms',
          note: `API call to running, median of ${ROUNDS}`,
        });
      report({ metric: 'ratio 2 GiB / 16 MiB', value: medians['large-image']! / medians['small-image']!, unit: 'x', note: 'goal <= 1.2' });
      report({
        metric: 'disk per extra instance of the 2 GiB image',
        value: Math.max(...perInstance) / 1024,
        unit: 'KiB',
        note: `the largest of ${ROUNDS}, du of its host folder (overlay, seed); goal <= 1 MiB`,
      });
    } finally {
      await stopAllProcesses();
      await dir.remove();
      await lv.stop();
    }
  },
};
