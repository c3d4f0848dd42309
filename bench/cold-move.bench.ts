/**
 * Cold move against the floor done by hand, under TCG: a manager and two stormd, each on a private
 * libvirtd of its own (test/harness/two-hosts.ts), the sample channel's hello-web. Each round, the
 * instance is powered off where it is (`virsh destroy`, then `storm stop` so it stays off), then
 * - the floor: its writable layer files `cp`ed into a folder on the other host, its domain XML
 *   (`virsh dumpxml`, paths turned to the other host's, a new name, no UUID or MAC) `virsh define`d
 *   on the other host's libvirtd and `virsh start`ed; then that domain is removed again;
 * - STORM: `POST /api/v1/instances/:id/move` to the other host, then `POST …/actions` start (the
 *   moved domain running): staged layers checked, the files relayed and sha256-checked, define,
 *   switch, the source removed, start.
 * One warm-up move each way first (the first stages the read-only layers on the target, which the
 * floor never does). Median of `BENCH_COLD_MOVE_ROUNDS` (3) of each, and their ratio (goal ≤ 1.5).
 */
import { execFile } from 'node:child_process';
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startTwoHosts } from '../test/harness/two-hosts.js';
import { publishSampleChannelForTest } from '../test/helpers/channel-fixture.js';
import { type Benchmark, median } from './harness.js';

const run = promisify(execFile);
const ROUNDS = Number(process.env['BENCH_COLD_MOVE_ROUNDS'] ?? 3);

interface Instance {
  id: string;
  host: { name: string } | null;
}

export const benchmark: Benchmark = {
  name: 'cold-move',
  describe: `cold move of a stopped hello-web (move + start) against cp + virsh define + virsh start, median of ${ROUNDS}`,
  async run(report) {
    const channel = await publishSampleChannelForTest();
    const two = await startTwoHosts({
      prefix: 'storm-bench-cold-move-',
      managerArgs: ['--channel-allow', '127.0.0.0/8', '--heartbeat', '2'],
    });
    try {
      const api = two.manager.api;
      await api.post('/channels', { url: channel.feedUrl, publicKey: channel.publicKey });
      const inst = await api.post<Instance>('/instances', { appliance: 'hello-web', version: '1.0.0', name: 'cm1', host: 'host-a' });
      const domain = `storm-${inst.id}`;
      const hostOf = async () => (await api.get<Instance>(`/instances/${inst.id}`)).host!.name as 'host-a' | 'host-b';
      const other = (h: 'host-a' | 'host-b') => (h === 'host-a' ? 'host-b' : 'host-a');
      // Forced off (no guest shutdown to wait for), then stopped through the API so no comeback starts it again.
      const powerOff = async () => {
        for (;;) {
          const h = two.hosts[await hostOf()];
          await h.virsh('destroy', domain).catch(() => '');
          await api.post(`/instances/${inst.id}/actions`, { action: 'stop' }).catch(() => undefined);
          if ((await h.virsh('domstate', domain)) === 'shut off') return;
        }
      };
      const move = async () => {
        const t0 = performance.now();
        await api.post(`/instances/${inst.id}/move`, { to: other(await hostOf()) });
        await api.post(`/instances/${inst.id}/actions`, { action: 'start' });
        return performance.now() - t0;
      };
      let bytes = 0;
      const floor = async (round: number) => {
        const from = await hostOf();
        const to = other(from);
        const src = join(two.dir.path, from, 'instances', inst.id);
        const dest = join(two.dir.path, to, `floor-${round}`);
        const name = `floor-${round}-${inst.id}`;
        const xml = (await two.hosts[from].virsh('dumpxml', domain))
          .replace(/<name>[^<]*<\/name>/, `<name>${name}</name>`)
          .replace(/<uuid>[^<]*<\/uuid>\s*/, '')
          .replace(/<mac address=[^>]*\/>\s*/g, '')
          .replaceAll(`${src}/`, `${dest}/`)
          .replaceAll(join(two.dir.path, from), join(two.dir.path, to));
        const xmlFile = join(two.dir.path, `floor-${round}.xml`);
        await writeFile(xmlFile, xml);
        const t0 = performance.now();
        await mkdir(join(dest, 'writable'), { recursive: true });
        for (const f of await readdir(join(src, 'writable')))
          await run('cp', ['--sparse=always', join(src, 'writable', f), join(dest, 'writable', f)]);
        await two.hosts[to].virsh('define', xmlFile);
        await two.hosts[to].virsh('start', name);
        const ms = performance.now() - t0;
        bytes = (await readdir(join(src, 'writable'))).length;
        await two.hosts[to].virsh('destroy', name).catch(() => '');
        await two.hosts[to].virsh('undefine', name).catch(() => '');
        await rm(dest, { recursive: true, force: true });
        await rm(xmlFile, { force: true });
        return ms;
      };
      // Warm-up: the read-only layers staged on both hosts, as a floor by hand presumes.
      for (let i = 0; i < 2; i++) {
        await powerOff();
        await move();
      }
      const moves: number[] = [];
      const floors: number[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        await powerOff();
        floors.push(await floor(i));
        moves.push(await move());
      }
      const layer = join(two.dir.path, await hostOf(), 'instances', inst.id, 'writable');
      const sizes = await Promise.all((await readdir(layer)).map(async (f) => (await stat(join(layer, f))).size));
      const note = `${bytes} file(s), ${(sizes.reduce((a, b) => a + b, 0) / 1048576).toFixed(1)} MiB of writable layer`;
      report({ metric: 'cold move (move + start)', value: median(moves), unit: 'ms', note: `median of ${ROUNDS}; ${note}` });
      report({ metric: 'floor (cp + virsh define + virsh start)', value: median(floors), unit: 'ms', note: `median of ${ROUNDS}` });
      report({ metric: 'ratio move / floor', value: median(moves) / median(floors), unit: '×', note: 'goal ≤ 1.5' });
      await powerOff();
      await api.delete(`/instances/${inst.id}`);
    } finally {
      await two.close();
      await channel.close();
    }
  },
};
