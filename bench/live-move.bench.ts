/**
 * Live move of a running layered guest between two hosts at the stormd level, under TCG: two
 * private libvirtds and two stormd processes on this machine (test/helpers/live-move-hosts.ts),
 * memory and the writable disk over unix sockets. One counter guest (tiny-os, 128 MiB) is moved
 * a → b → a → b; median of the 3 moves of the downtime libvirt measured (paused on the source →
 * resumed on the target) and of the whole `POST /migrate`. Each move is checked: the counter goes
 * on on the target under the same boot id.
 */
import { waitFor } from '../stormd/src/clock.js';
import { startHostPair } from '../test/helpers/live-move-hosts.js';
import { type Benchmark, median } from './harness.js';

const MOVES = 3;

export const benchmark: Benchmark = {
  name: 'live-move',
  describe: `live migration of a running 128 MiB guest between two stormd hosts (TCG), median of ${MOVES} moves`,
  async run(report) {
    const pair = await startHostPair();
    try {
      const guest = await pair.bootCounter(pair.a);
      const bootId = (await pair.ticks(pair.a, guest.id)).at(-1)?.bootId;
      const downtimeMs: number[] = [];
      const totalMs: number[] = [];
      let [from, to] = [pair.a, pair.b];
      for (let i = 0; i < MOVES; i++) {
        const moved = await pair.liveMove(guest, from, to);
        if (moved.downtimeMs === null) throw new Error('the target did not say the downtime');
        downtimeMs.push(moved.downtimeMs);
        totalMs.push(moved.totalMs);
        const target = to;
        const ticking = await waitFor(
          async () => {
            const ticks = await pair.ticks(target, guest.id);
            return ticks.length >= 2 && ticks.every((t) => t.bootId === bootId);
          },
          { timeoutMs: 60_000, intervalMs: 500 },
        );
        if (!ticking) throw new Error(`move ${i + 1}: the counter did not go on on ${target.name} under boot id ${bootId}`);
        [from, to] = [to, from];
      }
      report({
        metric: 'downtime (paused → resumed)',
        value: median(downtimeMs),
        unit: 'ms',
        note: `libvirt's job stats, median of ${MOVES}`,
      });
      report({ metric: 'live move (POST /migrate)', value: median(totalMs), unit: 'ms', note: `128 MiB guest, median of ${MOVES}` });
      await pair.call(from, 'DELETE', `/v1/instances/${guest.id}`);
    } finally {
      await pair.close();
    }
  },
};
