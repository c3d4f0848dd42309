/**
 * Pull a 1 GiB layer from `storm-channel serve` on loopback into the manager's cache, verified,
 * against `curl -o FILE URL && sha256sum FILE` for the same file in the same run (goal: at most
 * half the time), and the time a second pull of the cached appliance takes.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildApp } from '../manager/src/app.js';
import { managerConfig } from '../manager/src/config.js';
import { bigLayerSource } from '../test/helpers/big-layer-channel.js';
import { publishChannel } from '../test/helpers/channel-fixture.js';
import { type Benchmark, median } from './harness.js';

const run = promisify(execFile);
const GiB = 1024 * 1024 * 1024;
const ROUNDS = Number(process.env['BENCH_PULL_ROUNDS'] ?? 3);

export const benchmark: Benchmark = {
  name: 'pull',
  describe: `1 GiB layer pull, verified, vs curl + sha256sum (median of ${ROUNDS})`,
  async run(report) {
    const work = await mkdtemp(join(tmpdir(), 'storm-bench-pull-'));
    const channel = await publishChannel({ src: await bigLayerSource(work, GiB) });
    try {
      const ours: number[] = [];
      const theirs: number[] = [];
      let cachedMs = NaN;
      for (let round = 0; round < ROUNDS; round++) {
        const data = join(work, `data-${round}`);
        const app = await buildApp(managerConfig({ data, logLevel: 'silent', channelAllow: ['127.0.0.0/8'], channelPollSeconds: 0 }));
        try {
          const headers = { authorization: `Bearer ${(await readFile(join(data, 'admin.token'), 'utf8')).trim()}` };
          const sub = await app.inject({
            method: 'POST',
            url: '/api/v1/channels',
            headers,
            payload: { url: channel.feedUrl, publicKey: channel.publicKey },
          });
          if (sub.statusCode !== 201) throw new Error(`subscribe: ${sub.body}`);
          const layer = (await app.inject({ method: 'GET', url: '/api/v1/appliances/big-app/1.0.0', headers }))
            .json()
            .layers.find((l: { size: number }) => l.size === GiB) as { sha256: string };
          const url = new URL(`layers/${layer.sha256}.squashfs`, channel.baseUrl).href;

          const curlFile = join(work, 'curl.out');
          let t = performance.now();
          await run('curl', ['-sSf', '-o', curlFile, url]);
          const { stdout } = await run('sha256sum', [curlFile]);
          theirs.push(performance.now() - t);
          if (!stdout.startsWith(layer.sha256)) throw new Error('curl download did not verify');
          await rm(curlFile);

          t = performance.now();
          const pull = await app.inject({ method: 'POST', url: '/api/v1/appliances/big-app/1.0.0/pull', headers });
          ours.push(performance.now() - t);
          if (pull.statusCode !== 200) throw new Error(`pull: ${pull.body}`);

          t = performance.now();
          await app.inject({ method: 'POST', url: '/api/v1/appliances/big-app/1.0.0/pull', headers });
          cachedMs = performance.now() - t;
        } finally {
          await app.close();
          await rm(data, { recursive: true, force: true });
        }
      }
      const a = median(ours);
      const b = median(theirs);
      report({ metric: 'storm pull 1 GiB (hash while streaming)', value: a / 1000, unit: 's', note: `median of ${ROUNDS}` });
      report({ metric: 'curl -o + sha256sum 1 GiB', value: b / 1000, unit: 's', note: `median of ${ROUNDS}` });
      report({ metric: 'ratio storm / curl+sha256sum', value: a / b, unit: 'x', note: 'goal <= 0.5' });
      report({ metric: 'second pull of the cached appliance', value: cachedMs, unit: 'ms', note: 'no request to the channel' });
    } finally {
      await channel.close();
      await rm(work, { recursive: true, force: true });
    }
  },
};
