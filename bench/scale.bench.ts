/**
 * Scale: one manager, N stormd hosts on the test driver (see scale-site.ts), instances launched
 * through the API at concurrency 16 up to each size in turn (10, 100, 1,000 by default). At each
 * size: the launch rate of the step that reached it, `GET /api/v1/instances` (its default page) p50
 * and p99, every page walked by the cursor, the
 * manager's resident memory, its database size, and the manager CPU the hosts' heartbeats (and
 * whatever else runs while idle) take.
 */
import { readFile } from 'node:fs/promises';
import { allPages } from '../cli/src/paged.js';
import { DEFAULT_PAGE, MAX_PAGE } from '../manager/protocol/index.js';
import { type Benchmark, percentile, processCpuMs } from './harness.js';
import { watchEvents } from './event-watchers.js';
import { startScaleSite } from './scale-site.js';

const SIZES = (process.env['BENCH_SCALE_SIZES'] ?? '10,100,1000').split(',').map(Number);
const HOSTS = Number(process.env['BENCH_SCALE_HOSTS'] ?? 10);
const CONCURRENCY = 16;
/** Event-stream watchers held open during each launch step (the consoles of a busy site). */
const WATCHERS = Number(process.env['BENCH_SCALE_WATCHERS'] ?? 50);
const LIST_ROUNDS = Number(process.env['BENCH_SCALE_LIST_ROUNDS'] ?? 30);
/** Walks of every page: each is size / MAX_PAGE requests. */
const WALK_ROUNDS = Number(process.env['BENCH_SCALE_WALK_ROUNDS'] ?? 5);
/** Two heartbeat intervals at the default 10 s. */
const IDLE_MS = Number(process.env['BENCH_SCALE_IDLE_MS'] ?? 20_000);

const rssMiB = async (pid: number) => Number(/^VmRSS:\s+(\d+) kB$/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

/** Runs `n` tasks, `width` at a time. */
async function pool(n: number, width: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, n) }, async () => {
      while (next < n) await task(next++);
    }),
  );
}

export const benchmark: Benchmark = {
  name: 'scale',
  describe: `${HOSTS} stormd on the test driver, instances at ${SIZES.join(', ')}: launch rate (concurrency ${CONCURRENCY}), list p50/p99, manager RSS, DB size, idle CPU`,
  async run(report) {
    const site = await startScaleSite({ hosts: HOSTS });
    const { api, proc } = site.manager;
    try {
      let have = 0;
      for (const size of SIZES) {
        const todo = size - have;
        const watchers = await watchEvents(site.manager, WATCHERS);
        const answered = new Map<string, number>();
        const started = performance.now();
        await pool(todo, CONCURRENCY, async (i) => {
          const name = `s${have + i}`;
          await api.post('/instances', { appliance: 'hello-web', version: '1.0.0', name });
          answered.set(name, performance.now());
        });
        const wallS = (performance.now() - started) / 1000;
        // The stream may trail the answers a little: give it a second to catch up.
        await new Promise((r) => setTimeout(r, 1000));
        watchers.close();
        const lags: number[] = [];
        let missing = 0;
        for (const [name, at] of answered) {
          const arrivals = watchers.arrivals(name);
          missing += WATCHERS - arrivals.length;
          for (const t of arrivals) lags.push(t - at);
        }
        have = size;
        report({
          metric: `launch rate @${size}`,
          value: todo / wallS,
          unit: 'launches/s',
          note: `${todo} launches in ${wallS.toFixed(1)} s, ${HOSTS} hosts`,
        });
        if (WATCHERS > 0)
          report({
            metric: `event lag p99 @${size}`,
            value: lags.length ? percentile(lags, 99) : Number.NaN,
            unit: 'ms',
            note: `${WATCHERS} watchers of /api/v1/events during the step: each launch's running event after its answer (p50 ${lags.length ? percentile(lags, 50).toFixed(1) : '-'} ms), ${missing} of ${todo * WATCHERS} missing`,
          });

        // The list as the API answers it unasked: its first page (DEFAULT_PAGE), bounded whatever the count.
        const times: number[] = [];
        for (let r = 0; r < LIST_ROUNDS; r++) {
          const t = performance.now();
          const { instances } = await api.get<{ instances: unknown[] }>('/instances');
          times.push(performance.now() - t);
          if (instances.length !== Math.min(DEFAULT_PAGE, size)) throw new Error(`a page has ${instances.length} instances`);
        }
        report({
          metric: `list p50 @${size}`,
          value: percentile(times, 50),
          unit: 'ms',
          note: `GET /api/v1/instances (a page of ${DEFAULT_PAGE}), ${LIST_ROUNDS} rounds`,
        });
        report({ metric: `list p99 @${size}`, value: percentile(times, 99), unit: 'ms' });

        // Every instance, as storm ls and the console's overview read them: each page of MAX_PAGE by its cursor.
        const walkTimes: number[] = [];
        for (let r = 0; r < WALK_ROUNDS; r++) {
          const t = performance.now();
          const all = await allPages(api, '/instances', 'instances', MAX_PAGE);
          walkTimes.push(performance.now() - t);
          if (all.length !== size) throw new Error(`the pages hold ${all.length} instances, expected ${size}`);
        }
        report({
          metric: `whole list walked @${size}`,
          value: percentile(walkTimes, 50),
          unit: 'ms',
          note: `${Math.ceil(size / MAX_PAGE)} pages of ${MAX_PAGE} by the cursor, p50 of ${WALK_ROUNDS} (p99 ${percentile(walkTimes, 99).toFixed(0)} ms)`,
        });

        // One reconcile pass on demand: every host's instances read and compared with the database.
        const rcCpu0 = processCpuMs(proc.pid);
        const rcT0 = performance.now();
        const rc = await api.post<{ errors: string[] }>('/reconcile', {});
        const rcWall = performance.now() - rcT0;
        report({
          metric: `reconcile @${size}`,
          value: rcWall,
          unit: 'ms wall',
          note: `${HOSTS} hosts × ${Math.round(size / HOSTS)} instances, ${processCpuMs(proc.pid) - rcCpu0} ms manager CPU, ${rc.errors.length} errors`,
        });

        const cpu0 = processCpuMs(proc.pid);
        await new Promise((r) => setTimeout(r, IDLE_MS));
        report({
          metric: `idle manager CPU @${size}`,
          value: ((processCpuMs(proc.pid) - cpu0) / IDLE_MS) * 100,
          unit: '% of a core',
          note: `${HOSTS} hosts heartbeating every 10 s, ${IDLE_MS / 1000} s`,
        });
        report({ metric: `manager RSS @${size}`, value: await rssMiB(proc.pid), unit: 'MiB' });
        report({ metric: `database @${size}`, value: (await site.dbBytes()) / 1024 / 1024, unit: 'MiB', note: 'storm.db + WAL' });
      }
    } finally {
      await site.close();
    }
  },
};
