/**
 * Issue 14's third goal: a traditional appliance configured by cloud-init against a layered one
 * configured by the STORM agent, under TCG inside a STORM site (test/harness/storm-network.ts):
 * the launch call (which defines and starts the domain) → the manager shows `applied`, for
 * debian-cloud (firmware boot, Debian's cloud-init from the NoCloud seed, its phone-home) and
 * nginx-web on debian-jeos (the agent's storm.reportStatus), interleaved, median of
 * BENCH_CLOUD_INIT_ROUNDS (3). Both images are staged by a first, unmeasured launch each, so
 * the numbers are boot and configuration, not the copy to the host. Needs
 * `npm run build:appliances -- --debian` (run first here; cached).
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { startStormNetwork, type StormNetwork } from '../test/harness/storm-network.js';
import { buildDebianAppliances } from '../test/helpers/debian-appliances.js';
import { pollUntil } from '../test/helpers/poll.js';
import { type Benchmark, median } from './harness.js';

const BUILD = join(resolve(import.meta.dirname, '..'), 'appliances/build');
const ROUNDS = Number(process.env['BENCH_CLOUD_INIT_ROUNDS'] ?? 3);
const BOOT_MS = 20 * 60_000;
const APPS = [
  { appliance: 'debian-cloud', by: 'cloud-init' },
  { appliance: 'nginx-web', by: 'STORM agent' },
] as const;

interface Instance {
  id: string;
  state: string;
  guestStatus: { phase: string; details?: string | null } | null;
}

/** Launch call → `applied`, ms; the instance is removed after. */
async function launchToApplied(site: StormNetwork, appliance: string, name: string): Promise<{ ms: number; running: number }> {
  const t0 = performance.now();
  const inst = await site.api.post<Instance>('/instances', { appliance, name });
  const running = performance.now() - t0;
  await pollUntil(
    `${name} applied`,
    async () => {
      const i = await site.api.get<Instance>(`/instances/${inst.id}`);
      if (i.guestStatus?.phase === 'failed') throw new Error(`${name}: guest reported failed (${i.guestStatus.details ?? ''})`);
      return i.guestStatus?.phase === 'applied' ? true : undefined;
    },
    { timeoutMs: BOOT_MS, everyMs: 1000 },
  );
  const ms = performance.now() - t0;
  await site.api.delete(`/instances/${inst.id}`);
  return { ms, running };
}

export const benchmark: Benchmark = {
  name: 'cloud-init',
  describe: `define → applied under TCG: debian-cloud by cloud-init beside nginx-web by the agent, median of ${ROUNDS}`,
  async run(report) {
    await buildDebianAppliances();
    const site = await startStormNetwork({
      channelDir: join(BUILD, 'channel'),
      publicKey: await readFile(join(BUILD, 'publisher.pub'), 'utf8'),
    });
    try {
      await site.api.post('/channels', { url: site.feedUrl, publicKey: site.publicKey });
      // Pull and stage each once, unmeasured: the launch stages; its boot is not waited for.
      for (const a of APPS) {
        const warm = await site.api.post<Instance>('/instances', { appliance: a.appliance, name: `${a.appliance}-warm` });
        await site.api.delete(`/instances/${warm.id}`);
      }
      const toApplied = new Map<string, number[]>(APPS.map((a) => [a.appliance, []]));
      const toRunning = new Map<string, number[]>(APPS.map((a) => [a.appliance, []]));
      // Interleaved, so a busy moment of the machine weighs on both alike.
      for (let i = 0; i < ROUNDS; i++)
        for (const a of APPS) {
          const r = await launchToApplied(site, a.appliance, `${a.appliance}-${i}`);
          toApplied.get(a.appliance)!.push(r.ms);
          toRunning.get(a.appliance)!.push(r.running);
          // Each round as it ends: a long TCG run shows where it is.
          process.stderr.write(`[bench]   round ${i + 1}: ${a.appliance} applied after ${(r.ms / 1000).toFixed(1)} s\n`);
        }
      for (const a of APPS) {
        const all = toApplied.get(a.appliance)!;
        report({
          metric: `${a.appliance}: define → applied`,
          value: median(all) / 1000,
          unit: 's',
          note: `by ${a.by}, TCG, median of ${ROUNDS} (${all.map((ms) => (ms / 1000).toFixed(1)).join(', ')})`,
        });
        report({
          metric: `${a.appliance}: launch call → running`,
          value: median(toRunning.get(a.appliance)!),
          unit: 'ms',
          note: 'the part of it before the guest boots',
        });
      }
      report({
        metric: 'cloud-init / agent',
        value: median(toApplied.get('debian-cloud')!) / median(toApplied.get('nginx-web')!),
        unit: 'x',
        note: 'debian-cloud over nginx-web, define → applied',
      });
    } finally {
      await site.cleanup();
    }
  },
};
