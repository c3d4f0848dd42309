/**
 * The foundation's end-to-end acceptance: a real layered appliance (tiny-os + hello-web + an
 * instance layer) boots under qemu:///system through stormd's driver, boot spec and instance
 * layer code; its writes land in the instance layer only; a wrong layer stack fails closed.
 * Needs `npm run build:appliances` first (CI builds the artifacts before the tests).
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LibvirtDriver } from '../../stormd/src/hypervisor/libvirt-driver.js';
import type { DomainSpec } from '../../stormd/src/hypervisor/driver.js';
import { layeredBootSpec } from '../../stormd/src/instances/boot-spec.js';
import { createInstanceLayer, readInstanceFile } from '../../stormd/src/instances/instance-layer.js';
import { ensureLibvirtd, type LibvirtdHandle, makeVmDir, type VmDir } from '../harness/libvirtd.js';

const BUILD = resolve(dirname(fileURLToPath(import.meta.url)), '../../appliances/build');
const ART = {
  kernel: join(BUILD, 'vmlinuz'),
  initrd: join(BUILD, 'initrd.img'),
  tinyOs: join(BUILD, 'layers/tiny-os.squashfs'),
  helloWeb: join(BUILD, 'layers/hello-web.squashfs'),
};
const BOOT_MS = 120_000; // TCG boots in ~10 s; this leaves room for a loaded CI host
const TEST_MS = 240_000;

async function sha256(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

describe('e2e: layered boot on qemu:///system', () => {
  let lv: LibvirtdHandle | undefined;
  let driver: LibvirtDriver | undefined;
  let dir: VmDir | undefined;
  const domains = new Set<string>();
  const layerHashes = new Map<string, string>();

  beforeAll(async () => {
    const missing: string[] = [];
    for (const p of Object.values(ART))
      if (
        !(await stat(p).then(
          (s) => s.isFile(),
          () => false,
        ))
      )
        missing.push(p);
    // Fail, never skip: a missing artifact is a broken build, and CI builds them first.
    if (missing.length) throw new Error(`guest artifacts missing (${missing.join(', ')}): run \`npm run build:appliances\` first`);
    for (const p of [ART.tinyOs, ART.helloWeb]) layerHashes.set(p, await sha256(p));
    lv = await ensureLibvirtd();
    driver = new LibvirtDriver(lv.uri, { pollMs: 200 });
    await driver.connect();
    dir = await makeVmDir('storm-e2e-');
  });

  afterAll(async () => {
    // Every domain and file this suite made goes, whichever test failed.
    for (const name of domains) {
      await driver?.destroy(name).catch(() => undefined);
      await driver?.undefine(name).catch(() => undefined);
    }
    await driver?.close();
    await dir?.remove();
    await lv?.stop();
  });

  /** A fresh instance: its layer created and seeded, its spec assembled (not yet defined). */
  async function newInstance(tag: string): Promise<{ id: string; layer: string; spec: DomainSpec }> {
    if (!dir) throw new Error('setup failed');
    const id = `e2e-${tag}-${randomBytes(3).toString('hex')}`;
    const layer = join(dir.path, `${id}.qcow2`);
    await createInstanceLayer(layer, { id, name: `hello-${tag}` }, { sizeMiB: 64 });
    const spec = layeredBootSpec({
      instanceId: id,
      uuid: randomUUID(),
      kernel: ART.kernel,
      initrd: ART.initrd,
      layers: [
        { path: ART.tinyOs, format: 'raw' },
        { path: ART.helloWeb, format: 'raw' },
      ],
      instanceLayer: layer,
      memoryMiB: 256,
      vcpus: 1,
      consoleLog: join(dir.path, `${id}.console.log`),
      nics: [],
    });
    return { id, layer, spec };
  }

  async function boot(spec: DomainSpec): Promise<void> {
    if (!driver) throw new Error('setup failed');
    domains.add(spec.name);
    await driver.define(spec);
    await driver.start(spec.name);
  }

  const consoleOf = (spec: DomainSpec) => readFile(spec.consoleLog, 'utf8').catch(() => '');

  /** Waits for `pattern` on the console; fails early, with the console, when the guest errs or goes off. */
  async function waitConsole(spec: DomainSpec, pattern: RegExp): Promise<string> {
    const deadline = Date.now() + BOOT_MS;
    for (;;) {
      const text = await consoleOf(spec);
      if (pattern.test(text)) return text;
      const state = await driver?.state(spec.name);
      if (/STORM-INIT: error/.test(text) || state === 'shutoff' || Date.now() > deadline) {
        throw new Error(`no ${pattern} on the console of ${spec.name} (state ${state}); console:\n${text.slice(-4000)}`);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  /** Waits until the guest powers itself off; answers the console it left. */
  async function waitShutoff(spec: DomainSpec): Promise<string> {
    const deadline = Date.now() + BOOT_MS;
    while ((await driver?.state(spec.name)) !== 'shutoff') {
      if (Date.now() > deadline)
        throw new Error(`${spec.name} still running after ${BOOT_MS} ms; console:\n${(await consoleOf(spec)).slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    return consoleOf(spec);
  }

  it(
    'boots tiny-os + hello-web + an instance layer and stops gracefully; writes land in the instance layer only',
    async () => {
      const { id, layer, spec } = await newInstance('ok');
      const started = Date.now();
      await boot(spec);
      const text = await waitConsole(spec, /hello-web: httpd started on :80/);
      const bootMs = Date.now() - started;
      expect(text).toContain('STORM-INIT: root ready layers=3');
      const present =
        /STORM-OS: layers present: (.*)/
          .exec(text)?.[1]
          ?.trim()
          .split(/[\s,]+/) ?? [];
      expect(present).toEqual(expect.arrayContaining(['tiny-os', 'hello-web']));
      expect(text).toContain('hello-web: httpd started on :80');
      await waitConsole(spec, /STORM-OS: ready/);

      const stopStarted = Date.now();
      expect(await driver?.stop(spec.name, 60_000)).toBe('graceful');
      console.info(`e2e boot: httpd up after ${bootMs} ms, graceful stop took ${Date.now() - stopStarted} ms`);

      const stamp = (await readInstanceFile(layer, 'upper/var/lib/storm/boot-stamp')).toString();
      expect(stamp.trim().length).toBeGreaterThan(0);
      expect(JSON.parse((await readInstanceFile(layer, 'upper/etc/storm/instance.json')).toString())).toEqual({ id, name: 'hello-ok' });
      // The read-only layers are byte-for-byte what they were: the boot wrote nowhere else.
      for (const [path, before] of layerHashes) expect(await sha256(path), path).toBe(before);
    },
    TEST_MS,
  );

  it(
    'refuses a stack that claims rw on a read-only disk, and the guest powers off by itself',
    async () => {
      const { spec } = await newInstance('rwro');
      const lying: DomainSpec = {
        ...spec,
        boot: {
          ...spec.boot!,
          cmdline: spec.boot!.cmdline.replace('storm.layers=vda:ro,vdb:ro,vdc:rw', 'storm.layers=vda:ro,vdb:rw,vdc:rw'),
        },
      };
      expect(lying.boot?.cmdline).toContain('vdb:rw');
      await boot(lying);
      const text = await waitShutoff(lying);
      expect(text).toMatch(/STORM-INIT: error .*vdb/);
      expect(text).not.toContain('STORM-INIT: root ready');
    },
    TEST_MS,
  );

  it(
    'refuses a stack that names a missing disk, and the guest powers off by itself',
    async () => {
      const { spec } = await newInstance('missing');
      // Same command line (vda, vdb, vdc) but the instance disk is not attached.
      const short: DomainSpec = { ...spec, disks: spec.disks.slice(0, 2) };
      await boot(short);
      const text = await waitShutoff(short);
      expect(text).toMatch(/STORM-INIT: error .*vdc/);
      expect(text).not.toContain('STORM-INIT: root ready');
    },
    TEST_MS,
  );
});
