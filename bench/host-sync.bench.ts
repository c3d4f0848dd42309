/**
 * Host sync: the manager's own cost of its hosts' heartbeats at a hundred hosts, without a hundred
 * stormd processes (on two shared cores they measure the machine, not the manager). One manager
 * context in this process (createContext: real sqlite on disk, the real HostRegistry,
 * InstanceService and Comebacks), `BENCH_SYNC_HOSTS` (100) enrolled hosts and
 * `BENCH_SYNC_PER_HOST` (100) instances on each, seeded in sqlite; every host's heartbeat handed to
 * `HostRegistry.heartbeat` as the route does after TLS and JSON (those two are per host, not per
 * instance, and left out). Measured: the CPU of one round of every host's heartbeat (this process's
 * user + system, sqlite's threads included) as a share of a core at the default 10 s interval; a
 * heartbeat's wall p50/p99; a round in which a tenth of each host's instances changed state (writes).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HeartbeatRequest, InstanceStatus } from '../stormd/protocol.js';
import { managerConfig } from '../manager/src/config.js';
import { createContext } from '../manager/src/context.js';
import { InstanceStore } from '../manager/src/instances/instance-store.js';
import { type Benchmark, percentile } from './harness.js';

const HOSTS = Number(process.env['BENCH_SYNC_HOSTS'] ?? 100);
const PER_HOST = Number(process.env['BENCH_SYNC_PER_HOST'] ?? 100);
const ROUNDS = Number(process.env['BENCH_SYNC_ROUNDS'] ?? 10);
/** The manager's default heartbeat interval. */
const INTERVAL_MS = 10_000;

/** A guest spec of the size a launched appliance's record holds (its config items and records). */
const SPEC = JSON.stringify({
  items: Array.from({ length: 12 }, (_, i) => ({ key: `storm.item.${i}`, value: 'x'.repeat(64) })),
  records: Array.from({ length: 4 }, (_, i) => ({ name: `r${i}`, type: 'A', value: `10.64.0.${i}` })),
});

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

function heartbeat(h: number, state: (i: number) => InstanceStatus['state']): HeartbeatRequest {
  return {
    info: {
      hostId: `host-${h}`,
      name: `host-${h}`,
      version: '0.1.0',
      cpus: 64,
      memoryMiB: 1_048_576,
      freeMemoryMiB: 1_000_000,
      allocatedMemoryMiB: PER_HOST * 128,
      hypervisor: { uri: 'test:///default', domainType: 'test' },
      layers: Array.from({ length: 4 }, (_, l) => ({ sha256: String(l).repeat(64), size: 1 << 20 })),
      instances: PER_HOST,
    },
    instances: Array.from({ length: PER_HOST }, (_, i) => ({
      id: `i-${h}-${i}`,
      domain: `storm-i-${h}-${i}`,
      state: state(i),
      hasLayer: true,
      layerBytes: 1 << 20,
    })),
    crlNumber: 1_000_000,
  };
}

export const benchmark: Benchmark = {
  name: 'host-sync',
  describe: `${HOSTS} hosts' heartbeats with ${PER_HOST} instances each, handled in one manager context (real sqlite): CPU per round, wall per heartbeat`,
  async run(report) {
    const dir = await mkdtemp(join(tmpdir(), 'storm-bench-sync-'));
    const ctx = await createContext(managerConfig({ data: join(dir, 'manager'), logLevel: 'silent' }));
    try {
      const store = new InstanceStore(ctx.db);
      await ctx.db.transaction(async (tx) => {
        for (let h = 0; h < HOSTS; h++) {
          await tx.run("INSERT INTO hosts (id, name, url, cert_serial, status) VALUES (?, ?, ?, ?, 'ready')", [
            `host-${h}`,
            `host-${h}`,
            `https://127.0.0.1:${20_000 + h}`,
            `serial-${h}`,
          ]);
          for (let i = 0; i < PER_HOST; i++) {
            const n = h * PER_HOST + i;
            await store.insert(
              tx,
              {
                id: `i-${h}-${i}`,
                name: `s${n}`,
                uuid: `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`,
                channel_id: null,
                appliance: 'hello-web',
                version: '1.0.0',
                host_id: `host-${h}`,
                mac: `52:54:00:${((n >> 16) & 255).toString(16).padStart(2, '0')}:${((n >> 8) & 255).toString(16).padStart(2, '0')}:${(n & 255).toString(16).padStart(2, '0')}`,
                memory_mib: 128,
                vcpus: 1,
                params: '{"greeting":"hello"}',
                token_hash: null,
                guest_spec: SPEC,
              },
              [],
            );
          }
        }
        await tx.run("UPDATE instances SET state = 'running', desired = 'running'");
      });
      const steady = Array.from({ length: HOSTS }, (_, h) => heartbeat(h, () => 'running'));
      // A tenth of each host's guests paused (no comeback: only a shut-off or gone domain is brought back).
      const drifted = Array.from({ length: HOSTS }, (_, h) => heartbeat(h, (i) => (i % 10 === 0 ? 'paused' : 'running')));
      const round = async (reqs: readonly HeartbeatRequest[], walls?: number[]) => {
        for (const [h, req] of reqs.entries()) {
          const t = performance.now();
          await ctx.hosts.heartbeat(`serial-${h}`, req);
          walls?.push(performance.now() - t);
        }
      };
      await round(steady); // warm-up: the layers recorded, the statements compiled
      const walls: number[] = [];
      const c0 = cpuMs();
      for (let r = 0; r < ROUNDS; r++) await round(steady, walls);
      const perRound = (cpuMs() - c0) / ROUNDS;
      report({
        metric: 'heartbeats of every host',
        value: (perRound / INTERVAL_MS) * 100,
        unit: '% of a core',
        note: `${HOSTS} hosts × ${PER_HOST} instances, every ${INTERVAL_MS / 1000} s: ${perRound.toFixed(0)} ms of CPU a round, mean of ${ROUNDS}`,
      });
      report({ metric: 'one heartbeat p50', value: percentile(walls, 50), unit: 'ms', note: `p99 ${percentile(walls, 99).toFixed(2)} ms` });
      const d0 = cpuMs();
      const t0 = performance.now();
      await round(drifted);
      const driftWall = performance.now() - t0;
      report({
        metric: 'a round with 10 % drift',
        value: cpuMs() - d0,
        unit: 'ms CPU',
        note: `${(HOSTS * PER_HOST) / 10} states written (${PER_HOST / 10} a host), ${driftWall.toFixed(0)} ms wall`,
      });
      const running = await ctx.db.get<{ n: number }>("SELECT COUNT(*) AS n FROM instances WHERE state = 'paused'");
      if (running?.n !== (HOSTS * PER_HOST) / 10) throw new Error(`${running?.n} instances paused, expected ${(HOSTS * PER_HOST) / 10}`);
    } finally {
      await ctx.close();
      await rm(dir, { recursive: true, force: true });
    }
  },
};
