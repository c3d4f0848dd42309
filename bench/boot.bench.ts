/**
 * Boot of the sample appliance (tiny-os + hello-web + an instance layer) under qemu:///system:
 * time from define to `STORM-INIT: root ready` and to the appliance's httpd answering (the guest's
 * `hello-web: httpd started on :80` line, printed only once httpd listens), median of 5; and the
 * host disk one instance layer takes after a boot. TCG unless KVM works here.
 */
import { randomUUID } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { domainTypeFor } from '../stormd/src/hypervisor/accel.js';
import { LibvirtDriver } from '../stormd/src/hypervisor/libvirt-driver.js';
import { layeredBootSpec } from '../stormd/src/instances/boot-spec.js';
import { createInstanceLayer } from '../stormd/src/instances/instance-layer.js';
import { ensureLibvirtd, makeVmDir } from '../test/harness/libvirtd.js';
import { type Benchmark, median } from './harness.js';

const BUILD = resolve(import.meta.dirname, '../appliances/build');
const ROUNDS = Number(process.env['BENCH_BOOT_ROUNDS'] ?? 5);

async function waitForLine(file: string, pattern: RegExp, since: number, timeoutMs: number): Promise<number> {
  const deadline = since + timeoutMs;
  for (;;) {
    const text = await readFile(file, 'utf8').catch(() => '');
    if (pattern.test(text)) return performance.now();
    if (performance.now() > deadline) throw new Error(`no ${pattern} within ${timeoutMs} ms:\n${text.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export const benchmark: Benchmark = {
  name: 'boot',
  describe: `layered boot on qemu:///system, define → root ready / httpd (median of ${ROUNDS})`,
  async run(report) {
    const lv = await ensureLibvirtd();
    const driver = new LibvirtDriver(lv.uri, { pollMs: 100 });
    await driver.connect();
    const dir = await makeVmDir('storm-bench-boot-');
    const rootReady: number[] = [];
    const httpd: number[] = [];
    let layerBytes = 0;
    try {
      for (let i = 0; i < ROUNDS; i++) {
        const id = `bench-${randomUUID().slice(0, 8)}`;
        const instanceLayer = join(dir.path, `${id}.qcow2`);
        const consoleLog = join(dir.path, `${id}.log`);
        await createInstanceLayer(instanceLayer, { id, name: id });
        const spec = layeredBootSpec({
          instanceId: id,
          uuid: randomUUID(),
          kernel: join(BUILD, 'vmlinuz'),
          initrd: join(BUILD, 'initrd.img'),
          layers: [
            { path: join(BUILD, 'layers/tiny-os.squashfs'), format: 'raw' },
            { path: join(BUILD, 'layers/hello-web.squashfs'), format: 'raw' },
          ],
          instanceLayer,
          memoryMiB: 128,
          vcpus: 1,
          consoleLog,
          nics: [],
        });
        const t0 = performance.now();
        await driver.define(spec);
        await driver.start(spec.name);
        try {
          rootReady.push((await waitForLine(consoleLog, /STORM-INIT: root ready/, t0, 120_000)) - t0);
          httpd.push((await waitForLine(consoleLog, /hello-web: httpd started on :80/, t0, 120_000)) - t0);
          await driver.stop(spec.name, 30_000);
          layerBytes = (await stat(instanceLayer)).blocks * 512;
        } finally {
          await driver.destroy(spec.name).catch(() => undefined);
          await driver.undefine(spec.name).catch(() => undefined);
        }
      }
      const accel = domainTypeFor(lv.uri);
      report({
        metric: 'define → STORM-INIT: root ready',
        value: median(rootReady) / 1000,
        unit: 's',
        note: `median of ${ROUNDS}, domain type ${accel}`,
      });
      report({ metric: 'define → hello-web httpd listening', value: median(httpd) / 1000, unit: 's', note: `median of ${ROUNDS}` });
      report({
        metric: 'instance layer on disk after a boot',
        value: layerBytes / 1024,
        unit: 'KiB',
        note: 'allocated blocks of the qcow2',
      });
    } finally {
      await driver.close();
      await dir.remove();
      await lv.stop();
    }
  },
};
