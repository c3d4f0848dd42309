/**
 * stormd's writable layer stacks end to end on qemu:///system, guests booted for real (TCG or KVM):
 * a guest writes into w0; a checkpoint freezes it under w1 and the union still shows it
 * (boot-stamp count=2); a service seeded in w1 deletes an image file (a whiteout), replaces an image
 * directory (opaque) and changes a file; w0+w1 merge into one frozen layer that boots under
 * hello-web 1.1.0 (an upgrade) with all of that intact; the stack packages into a reproducible
 * squashfs without the instance's identity; a new instance booted on that package sees the
 * changes. Then boot time at stack depths 3, 9, 16 and 26 (the bound). Host disk use and the
 * time of every host-side step are printed. Needs `npm run build:appliances` first.
 */
import { createHash, randomUUID } from 'node:crypto';
import { lstat, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientTlsOptions } from '../../trust/index.js';
import type { SerialTail, InstanceStatus, PackageResponse, WritableLayer, WritableLayers } from '../../stormd/protocol.js';
import { waitFor } from '../../stormd/src/clock.js';
import { runTool } from '../../stormd/src/exec.js';
import { readInstanceFile } from '../../stormd/src/instances/instance-layer.js';
import { withMountedLayers } from '../../stormd/src/instances/layer-mount.js';
import { OPAQUE_XATTR } from '../../stormd/src/instances/overlay-merge.js';
import { dumpXattrs } from '../../stormd/src/instances/xattrs.js';
import { joinManager } from '../../stormd/src/join/join.js';
import { startStormd, type StormdHandle } from '../../stormd/src/serve.js';
import { ensureLibvirtd, type LibvirtdHandle } from '../harness/libvirtd.js';
import { callStormd, type FakeManager, startFakeManager, type StormdAnswer } from './stormd-fake-manager.js';

const BUILD = resolve(import.meta.dirname, '../../appliances/build');
const ART = {
  kernel: join(BUILD, 'vmlinuz'),
  initrd: join(BUILD, 'initrd.img'),
  tinyOs: join(BUILD, 'layers/tiny-os.squashfs'),
  helloWeb: join(BUILD, 'layers/hello-web.squashfs'),
  helloWeb110: join(BUILD, 'layers/hello-web-1.1.0.squashfs'),
};
type Art = keyof typeof ART;
const BOOT_MS = 180_000;
/** What the manager leaves out of a package: the instance's identity and boot record. */
const IDENTITY = [
  '/etc/storm/token',
  '/etc/storm/instance.json',
  '/etc/storm/manager.json',
  '/etc/storm/ldap.json',
  '/etc/storm/ca.pem',
  '/etc/storm/config.env',
  '/etc/hostname',
  '/var/lib/storm/boot-stamp',
];

const REPORT = `#!/bin/sh
# What the union shows, before any other service changes it.
note=$(cat /etc/storm/note.txt 2>/dev/null || echo -)
[ -e /srv/hello-web/www/index.html ] && index=present || index=absent
www=$(ls /srv/hello-web/www 2>/dev/null | tr '\\n' ' ')
echo "STORM-TEST: note=$note index=$index www=\${www% }"
`;
const MUTATE = `#!/bin/sh
# Writes into the current layer: a change, a whiteout over an image file, an opaque directory.
echo changed >/etc/storm/note.txt
rm -f /etc/storm/layers/hello-web
rm -rf /srv/hello-web/www && mkdir -p /srv/hello-web/www && echo fresh >/srv/hello-web/www/fresh.html
sync
echo "STORM-TEST: mutated"
`;
const b64 = (s: string) => Buffer.from(s).toString('base64');

let lv: LibvirtdHandle | undefined;
let manager: FakeManager;
let stormd: StormdHandle | undefined;
let data: string;
const sha = {} as Record<Art, string>;
const size = {} as Record<Art, number>;
const a = `lay-a-${randomUUID().slice(0, 8)}`;
const b = `lay-b-${randomUUID().slice(0, 8)}`;
const deep = `lay-d-${randomUUID().slice(0, 8)}`;
const uuids = new Map<string, string>();
const timings: string[] = [];

const call = (method: string, path: string, body?: unknown): Promise<StormdAnswer> => {
  if (!stormd) throw new Error('stormd did not start');
  return callStormd(manager, stormd.url, method, path, body);
};
/** Like the manager: a call that must answer `status`, timed. */
async function step<T>(what: string, status: number, method: string, path: string, body?: unknown): Promise<T> {
  const t0 = performance.now();
  const res = await call(method, path, body);
  timings.push(`${what}: ${Math.round(performance.now() - t0)} ms`);
  expect(res, `${what}: ${JSON.stringify(res.body)}`).toMatchObject({ status });
  return res.body as T;
}
const define = (id: string, layers: string[], frozen: string[] = []) =>
  step<InstanceStatus>(`define ${id} (${layers.length} image + ${frozen.length} frozen + 1)`, 200, 'PUT', `/v1/instances/${id}/domain`, {
    uuid: uuids.get(id) ?? uuids.set(id, randomUUID()).get(id),
    memoryMiB: 256,
    vcpus: 1,
    boot: { kernel: sha.kernel, initrd: sha.initrd },
    layers,
    frozen,
    nics: [],
  });
const layerPath = (id: string, file: string) => join(data, 'instances', id, 'writable', file);
const allocated = async (path: string) => (await stat(path)).blocks * 512;
const du = async (path: string) => Number((await runTool('du', ['-s', '-B1', path])).stdout.toString().split('\t')[0]);

/** Each boot's console starts at this line; the log keeps every boot, so a boot is read after its own. */
const BOOT = 'STORM-INIT: root ready';
const consoleText = async (id: string) => ((await call('GET', `/v1/instances/${id}/console?bytes=1048576`)).body as SerialTail).text;

/** Starts the domain and waits until tiny-os is ready; answers this boot's console and the seconds it took. */
async function boot(id: string): Promise<{ text: string; seconds: number }> {
  const earlier = (await consoleText(id)).split(BOOT).length - 1;
  const t0 = performance.now();
  expect((await call('POST', `/v1/instances/${id}/actions`, { action: 'start' })).body).toEqual({ state: 'running' });
  let text = '';
  const up = await waitFor(
    async () => {
      const all = await consoleText(id);
      const parts = all.split(BOOT);
      text = parts.length > earlier + 1 ? BOOT + parts.slice(earlier + 1).join(BOOT) : all.slice(-8000);
      if (/STORM-INIT: error/.test(text)) throw new Error(`the guest failed to boot:\n${text.slice(-4000)}`);
      return parts.length > earlier + 1 && /STORM-OS: ready/.test(text);
    },
    { timeoutMs: BOOT_MS, intervalMs: 500 },
  );
  expect(up, `console:\n${text.slice(-4000)}`).toBe(true);
  return { text, seconds: (performance.now() - t0) / 1000 };
}
async function stop(id: string): Promise<void> {
  expect((await call('POST', `/v1/instances/${id}/actions`, { action: 'stop', timeoutMs: 90_000 })).body).toEqual({
    state: 'shutoff',
    outcome: 'graceful',
  });
}

/** `GET` of raw bytes over mutual TLS, as the manager fetches a package. */
function fetchBytes(path: string): Promise<{ status: number; type: string; bytes: Buffer }> {
  if (!stormd) throw new Error('stormd did not start');
  const url = new URL(path, stormd.url);
  return new Promise((done, fail) => {
    const req = request(
      {
        ...clientTlsOptions({ ca: manager.ca.certPem, servername: url.hostname, cert: manager.client.certPem, key: manager.client.keyPem }),
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'GET',
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => done({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), bytes: Buffer.concat(chunks) }));
        res.on('error', fail);
      },
    );
    req.on('error', fail);
    req.end();
  });
}

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
  // Fail, never skip: a missing artifact is a broken build.
  if (missing.length) throw new Error(`guest artifacts missing (${missing.join(', ')}): run \`npm run build:appliances\` first`);
  manager = await startFakeManager({ intervalMs: 1000 });
  for (const key of Object.keys(ART) as Art[]) {
    const bytes = await readFile(ART[key]);
    sha[key] = manager.addBlob(bytes);
    size[key] = bytes.length;
  }
  lv = await ensureLibvirtd();
  data = await mkdtemp(join(tmpdir(), 'stormd-layers-'));
  await joinManager({ managerUrl: manager.url, token: manager.newToken(), dataDir: data, name: 'host-l', url: 'https://127.0.0.1:9443' });
  stormd = await startStormd({ data, listen: '127.0.0.1:0', hypervisor: lv.uri, renewBeforeDays: 30, logLevel: 'warn', logFormat: 'json' });
  for (const key of Object.keys(ART) as Art[]) {
    const res = await call('PUT', `/v1/layers/${sha[key]}`, { url: `${manager.url}/api/v1/images/${sha[key]}/blob`, size: size[key] });
    expect(res, key).toMatchObject({ status: 200 });
  }
}, 180_000);

afterAll(async () => {
  for (const id of [a, b, deep]) await stormd?.instances.remove(id).catch(() => undefined);
  await stormd?.close();
  await manager?.close();
  await lv?.stop();
  if (data) await rm(data, { recursive: true, force: true });
  console.log(`stormd layer timings (host side, guest boot excluded):\n  ${timings.join('\n  ')}`);
});

describe('writable layer stacks on qemu:///system', () => {
  let pkg: PackageResponse;

  it('checkpoints: w0 frozen under w1, the union still shows what the guest wrote in w0', async () => {
    await step('create w0', 201, 'PUT', `/v1/instances/${a}/layer`, {
      name: 'stack-a',
      sizeMiB: 64,
      files: {
        '/etc/storm/note.txt': { contentBase64: b64('original\n') },
        '/etc/storm/token': { contentBase64: b64('secret\n'), mode: 0o600 },
        '/etc/storm/services.d/01-report': { contentBase64: b64(REPORT), mode: 0o755 },
      },
    });
    await define(a, [sha.tinyOs, sha.helloWeb]);
    const first = await boot(a);
    expect(first.text).toContain('STORM-OS: boot-stamp count=1');
    expect(first.text).toContain('STORM-TEST: note=original index=present www=cgi-bin index.html');
    await stop(a);
    const w0Bytes = await allocated(layerPath(a, 'w0.qcow2'));

    const before = await du(data);
    const list = await step<WritableLayers>('checkpoint: new writable layer w1', 201, 'POST', `/v1/instances/${a}/writable-layers`, {
      files: { '/etc/storm/services.d/05-mutate': { contentBase64: b64(MUTATE), mode: 0o755 } },
    });
    expect(list.layers.map((l) => [l.id, l.current])).toEqual([
      ['w0', false],
      ['w1', true],
    ]);
    await define(a, [sha.tinyOs, sha.helloWeb], ['w0']);
    const added = (await du(data)) - before;
    timings.push(
      `checkpoint added ${added} bytes on the host (w1 ${await allocated(layerPath(a, 'w1.qcow2'))} allocated; w0 ${w0Bytes} unchanged)`,
    );
    expect(await allocated(layerPath(a, 'w0.qcow2'))).toBe(w0Bytes);
    expect(added).toBeLessThan(2 * 1024 * 1024);

    const second = await boot(a);
    expect(second.text).toContain('STORM-INIT: root ready layers=4');
    expect(second.text).toContain('STORM-OS: boot-stamp count=2'); // read from frozen w0, written to w1
    expect(second.text).toContain('STORM-TEST: note=original index=present www=cgi-bin index.html');
    expect(second.text).toContain('STORM-TEST: mutated');
    await stop(a);
    expect(await allocated(layerPath(a, 'w0.qcow2'))).toBe(w0Bytes); // attached read-only: not one block written
    expect((await readInstanceFile(layerPath(a, 'w1.qcow2'), 'upper/etc/storm/note.txt')).toString()).toBe('changed\n');
    expect((await readInstanceFile(layerPath(a, 'w0.qcow2'), 'upper/etc/storm/note.txt')).toString()).toBe('original\n');
    // What the guest's overlayfs left in w1: a whiteout over hello-web's marker, an opaque www.
    const scratch = await mkdtemp(join(data, 'inspect-'));
    await withMountedLayers([layerPath(a, 'w1.qcow2')], scratch, async ([root]) => {
      const wo = await lstat(join(root as string, 'upper/etc/storm/layers/hello-web'));
      expect(wo.isCharacterDevice() && wo.rdev === 0).toBe(true);
      const www = join(root as string, 'upper/srv/hello-web/www');
      expect((await dumpXattrs([www])).get(www)?.get(OPAQUE_XATTR)?.toString()).toBe('y');
    });
    await rm(scratch, { recursive: true });
  }, 600_000);

  it('merges w0+w1 into one frozen layer that boots under hello-web 1.1.0 with the changes kept', async () => {
    await step('checkpoint: new writable layer w2', 201, 'POST', `/v1/instances/${a}/writable-layers`, {});
    expect(await call('POST', `/v1/instances/${a}/writable-layers/merge`, { layers: ['w2'] })).toMatchObject({
      status: 409,
      body: { code: 'STORMD_ERR_LAYER_CURRENT' },
    });
    const merged = await step<WritableLayer>('merge w0+w1', 201, 'POST', `/v1/instances/${a}/writable-layers/merge`, {
      layers: ['w0', 'w1'],
    });
    expect(merged).toMatchObject({ id: 'w3', current: false });
    timings.push(
      `merged layer w3: ${merged.bytes} bytes allocated (w0 ${await allocated(layerPath(a, 'w0.qcow2'))} + w1 ${await allocated(layerPath(a, 'w1.qcow2'))})`,
    );
    await define(a, [sha.tinyOs, sha.helloWeb110], ['w3']); // the upgrade: the appliance layer swapped, the writable ones kept
    const third = await boot(a);
    expect(third.text).toContain('STORM-INIT: root ready layers=4');
    expect(third.text).toContain('STORM-OS: layers present: tiny-os'); // hello-web's marker stays whited out, 1.1.0's too
    expect(third.text).toContain('STORM-OS: boot-stamp count=3');
    expect(third.text).toContain('STORM-TEST: note=changed index=absent www=fresh.html');
    await stop(a);
    expect((await readInstanceFile(layerPath(a, 'w2.qcow2'), 'upper/var/lib/storm/boot-stamp')).toString()).toMatch(/^count=3$/m);

    expect(await call('DELETE', `/v1/instances/${a}/writable-layers/w3`)).toMatchObject({
      status: 409,
      body: { code: 'STORMD_ERR_LAYER_IN_USE' },
    });
    const before = await du(data);
    await step('delete w0', 204, 'DELETE', `/v1/instances/${a}/writable-layers/w0`);
    await step('delete w1', 204, 'DELETE', `/v1/instances/${a}/writable-layers/w1`);
    timings.push(`deleting w0 and w1 freed ${before - (await du(data))} bytes`);
    const list = (await call('GET', `/v1/instances/${a}/writable-layers`)).body as WritableLayers;
    expect(list.layers.map((l) => `${l.id}${l.current ? '*' : ''}`)).toEqual(['w2*', 'w3']);
    const status = (await call('GET', `/v1/instances/${a}`)).body as InstanceStatus;
    expect(status.layerBytes).toBe(list.layers.reduce((s, l) => s + l.bytes, 0));
  }, 600_000);

  it('packages the stack reproducibly, whiteouts and opaque dirs kept, identity left out', async () => {
    const exclude = [...IDENTITY, '/etc/storm/services.d/05-mutate'];
    pkg = await step<PackageResponse>('package w3+w2', 201, 'POST', `/v1/instances/${a}/packages`, { layers: ['w3', 'w2'], exclude });
    const again = await step<PackageResponse>('package w3+w2 again', 201, 'POST', `/v1/instances/${a}/packages`, {
      layers: ['w3', 'w2'],
      exclude,
    });
    expect(again).toEqual(pkg);
    const got = await fetchBytes(`/v1/instances/${a}/packages/${pkg.sha256}`);
    expect(got).toMatchObject({ status: 200, type: 'application/octet-stream' });
    expect(got.bytes.length).toBe(pkg.size);
    expect(createHash('sha256').update(got.bytes).digest('hex')).toBe(pkg.sha256);
    timings.push(`package: ${pkg.size} bytes`);
    const file = join(data, 'package.squashfs');
    await writeFile(file, got.bytes);
    const lls = (await runTool('unsquashfs', ['-lls', file])).stdout.toString();
    expect(lls).toMatch(/^c\S+ root\/root\s+0,\s+0 .* squashfs-root\/etc\/storm\/layers\/hello-web$/m);
    expect(lls).toContain('squashfs-root/etc/storm/note.txt');
    expect(lls).toContain('squashfs-root/etc/storm/services.d/01-report');
    expect(lls).toContain('squashfs-root/srv/hello-web/www/fresh.html');
    for (const gone of ['etc/storm/token', 'etc/storm/instance.json', 'var/lib/storm/boot-stamp', '05-mutate'])
      expect(lls).not.toContain(gone);
    const x = join(data, 'package-tree');
    await runTool('unsquashfs', ['-q', '-d', x, file]);
    expect((await dumpXattrs([join(x, 'srv/hello-web/www')])).get(join(x, 'srv/hello-web/www'))?.get(OPAQUE_XATTR)?.toString()).toBe('y');
    await rm(x, { recursive: true });
    await rm(file);
  }, 300_000);

  it('boots a new instance on the package: the changes are there, the identity is its own', async () => {
    const bytes = (await fetchBytes(`/v1/instances/${a}/packages/${pkg.sha256}`)).bytes;
    expect(manager.addBlob(bytes)).toBe(pkg.sha256);
    expect(
      await call('PUT', `/v1/layers/${pkg.sha256}`, { url: `${manager.url}/api/v1/images/${pkg.sha256}/blob`, size: pkg.size }),
    ).toMatchObject({ status: 200, body: { staged: true } });
    await step('delete the package', 204, 'DELETE', `/v1/instances/${a}/packages/${pkg.sha256}`);
    await step('create w0 of b', 201, 'PUT', `/v1/instances/${b}/layer`, { name: 'stack-b', sizeMiB: 64 });
    await define(b, [sha.tinyOs, sha.helloWeb, pkg.sha256]);
    const first = await boot(b);
    expect(first.text).toContain('STORM-INIT: root ready layers=4');
    expect(first.text).toContain('STORM-OS: layers present: tiny-os');
    expect(first.text).toContain('STORM-OS: boot-stamp count=1'); // the boot stamp stayed behind
    expect(first.text).toContain('STORM-OS: instance name=stack-b');
    expect(first.text).toContain('STORM-TEST: note=changed index=absent www=fresh.html');
    expect(first.text).not.toContain('STORM-TEST: mutated');
    await stop(b);
  }, 600_000);

  it('boots at stack depths 3, 9, 16 and 26 (the bound), refuses 27, flattens while running', async () => {
    await step('create w0 of d', 201, 'PUT', `/v1/instances/${deep}/layer`, { name: 'stack-d', sizeMiB: 64 });
    for (let i = 1; i <= 23; i++) await step(`checkpoint w${i}`, 201, 'POST', `/v1/instances/${deep}/writable-layers`, {});
    const frozen = (n: number) => Array.from({ length: n }, (_, i) => `w${i}`);
    const refused = await call('PUT', `/v1/instances/${deep}/domain`, {
      uuid: randomUUID(),
      memoryMiB: 256,
      vcpus: 1,
      boot: { kernel: sha.kernel, initrd: sha.initrd },
      layers: [sha.tinyOs, sha.helloWeb, sha.helloWeb110],
      frozen: frozen(23),
      nics: [],
    });
    expect(refused).toMatchObject({ status: 400, body: { code: 'STORMD_ERR_STACK_TOO_DEEP', details: { depth: 27, max: 26 } } });
    const seconds: string[] = [];
    for (const depth of [3, 9, 16, 26]) {
      await define(deep, [sha.tinyOs, sha.helloWeb], frozen(depth - 3));
      const run = await boot(deep);
      expect(run.text).toContain(`STORM-INIT: root ready layers=${depth}`);
      expect(run.text).toContain('hello-web: httpd started on :80');
      seconds.push(`depth ${depth}: ${run.seconds.toFixed(1)} s`);
      if (depth === 26) {
        // Flatten without downtime: frozen layers the running qemu holds read-only merge fine; the one it writes does not.
        expect(
          await step<WritableLayer>('merge w0..w22 while the guest runs', 201, 'POST', `/v1/instances/${deep}/writable-layers/merge`, {
            layers: frozen(23),
          }),
        ).toMatchObject({ id: 'w24' });
        expect(await call('POST', `/v1/instances/${deep}/packages`, { layers: ['w22', 'w23'] })).toMatchObject({
          status: 409,
          body: { code: 'STORMD_ERR_DOMAIN_STATE' },
        });
      }
      await stop(deep);
    }
    await define(deep, [sha.tinyOs, sha.helloWeb], ['w24']);
    const flat = await boot(deep);
    expect(flat.text).toContain('STORM-INIT: root ready layers=4');
    expect(flat.text).toContain('STORM-OS: boot-stamp count=5');
    seconds.push(`flattened to depth 4: ${flat.seconds.toFixed(1)} s`);
    await stop(deep);
    timings.push(`boot to STORM-OS: ready (from the start call): ${seconds.join(', ')}`);
  }, 1_200_000);
});
