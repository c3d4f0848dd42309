/**
 * Lifecycle over the layer stack, through the manager's API on qemu:///system (a manager process and
 * a stormd): checkpoint and rollback of a stopped instance (guest boot excluded), median of
 * BENCH_LIFECYCLE_ROUNDS (5), with the host disk each adds; and the boot time of hello-web at stack
 * depths 3, 9 and 16 (the depths the Blutopia paper measured): start → `STORM-INIT: root ready` and
 * → `STORM-OS: ready`, depth made by checkpoints (each adds one frozen writable layer).
 */
import { join } from 'node:path';
import { ensureLibvirtd, makeVmDir } from '../test/harness/libvirtd.js';
import { publishSampleChannelForTest } from '../test/helpers/channel-fixture.js';
import { startManager } from '../test/helpers/manager-process.js';
import { stopAllProcesses } from '../test/helpers/process.js';
import { startStormd } from '../test/helpers/stormd-process.js';
import { type Benchmark, median, du } from './harness.js';

const ROUNDS = Number(process.env['BENCH_LIFECYCLE_ROUNDS'] ?? 5);
const DEPTHS = [3, 9, 16];

export const benchmark: Benchmark = {
  name: 'lifecycle',
  describe: `checkpoint and rollback (guest boot excluded, median of ${ROUNDS}) and boot at stack depths ${DEPTHS.join(', ')}`,
  async run(report) {
    const lv = await ensureLibvirtd();
    const dir = await makeVmDir('storm-bench-lifecycle-');
    const channel = await publishSampleChannelForTest();
    try {
      const m = await startManager(join(dir.path, 'manager'), ['--channel-allow', '127.0.0.0/8']);
      const host = await startStormd(m, { name: 'bench-host', dir: dir.path, hypervisor: lv.uri });
      await m.api.post('/channels', { url: channel.feedUrl, publicKey: channel.publicKey });
      const inst = await m.api.post<{ id: string }>('/instances', { appliance: 'hello-web', version: '1.0.0', name: 'bench1' });
      const act = (body: object) => m.api.post<{ operation: { checkpoint: string } }>(`/instances/${inst.id}/actions`, body);
      const folder = join(host.data, 'instances', inst.id);
      await act({ action: 'stop' });

      const checkpointMs: number[] = [];
      const rollbackMs: number[] = [];
      const checkpointBytes: number[] = [];
      const rollbackBytes: number[] = [];
      let first = '';
      for (let i = 0; i < ROUNDS; i++) {
        let before = await du(folder);
        let t = performance.now();
        const cp = await act({ action: 'checkpoint' });
        checkpointMs.push(performance.now() - t);
        checkpointBytes.push((await du(folder)) - before);
        first ||= cp.operation.checkpoint;
        before = await du(folder);
        t = performance.now();
        await act({ action: 'rollback', checkpoint: first });
        rollbackMs.push(performance.now() - t);
        rollbackBytes.push((await du(folder)) - before);
      }
      report({ metric: 'checkpoint (stopped instance)', value: median(checkpointMs), unit: 'ms', note: `API call, median of ${ROUNDS}` });
      report({
        metric: 'checkpoint adds on the host',
        value: median(checkpointBytes) / 1024,
        unit: 'KiB',
        note: 'du of the instance folder',
      });
      report({ metric: 'rollback (stopped instance)', value: median(rollbackMs), unit: 'ms', note: `API call, median of ${ROUNDS}` });
      report({ metric: 'rollback adds on the host', value: median(rollbackBytes) / 1024, unit: 'KiB', note: 'du of the instance folder' });
      await m.api.delete(`/instances/${inst.id}`);

      for (const depth of DEPTHS) {
        const d = await m.api.post<{ id: string; layers: unknown[] }>('/instances', {
          appliance: 'hello-web',
          version: '1.0.0',
          name: `depth${depth}`,
        });
        await m.api.post(`/instances/${d.id}/actions`, { action: 'stop' });
        for (let k = d.layers.length; k < depth; k++) await m.api.post(`/instances/${d.id}/actions`, { action: 'checkpoint' });
        const shown = await m.api.get<{ layers: unknown[] }>(`/instances/${d.id}`);
        const t0 = performance.now();
        await m.api.post(`/instances/${d.id}/actions`, { action: 'start' });
        let rootReady = NaN;
        for (;;) {
          const text = (await m.api.get<{ text: string }>(`/instances/${d.id}/console?bytes=1048576`)).text;
          const last = text.split('STORM-INIT: root ready').length - 1;
          // Each earlier boot of this instance left its markers: wait for this boot's.
          if (Number.isNaN(rootReady) && last >= 2) rootReady = performance.now() - t0;
          if (text.split('STORM-OS: ready').length - 1 >= 2) break;
          if (performance.now() - t0 > 180_000) throw new Error(`depth ${depth} never became ready`);
          await new Promise((r) => setTimeout(r, 100));
        }
        const ready = performance.now() - t0;
        report({ metric: `boot at depth ${shown.layers.length}: start → root ready`, value: rootReady / 1000, unit: 's', note: 'TCG' });
        report({ metric: `boot at depth ${shown.layers.length}: start → STORM-OS ready`, value: ready / 1000, unit: 's', note: 'TCG' });
        await m.api.delete(`/instances/${d.id}`);
      }
    } finally {
      await stopAllProcesses();
      await channel.close();
      await dir.remove();
      await lv.stop();
    }
  },
};
