/**
 * Traditional appliances end to end, inside a network namespace (test/harness/storm-network.ts):
 * debian-cloud (Debian 12 from Debian's packages with its own cloud-init, `appliances/src/cloud-image.ts`)
 * is published on a channel and launched through the API with an SSH key. It boots by firmware
 * from its overlay; cloud-init, fed by STORM's NoCloud seed, sets its host name, takes its reserved
 * address, resolves storm.local through STORM's DNS and installs the keys; `ssh -i KEY` from inside
 * the namespace runs `hostname`; the manager shows `applied`. A second instance shares the one staged
 * image. Checkpoint and rollback restore a file written in the guest; package makes a new image version
 * that has a file written in the guest and none of its identity (read with debugfs, not booted). `storm image import` of a raw
 * image, then a launch: it boots, and every level of its disk's backing chain states its format.
 * One booted guest is shared by the assertions that need one.
 */
import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCloudImage } from '../../appliances/src/cloud-image.js';
import { withBuildLock } from '../../appliances/src/lock.js';
import { buildChannel, generatePublisherKey } from '../../channels/src/index.js';
import { makeVmDir, type VmDir } from '../harness/libvirtd.js';
import { SITE, startStormNetwork, type StormNetwork } from '../harness/storm-network.js';
import { destroyAllInstances, type LaunchedInstance as Instance } from '../helpers/instances.js';
import { pollUntil } from '../helpers/poll.js';
import { stormCli } from '../helpers/storm-cli.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const BUILD = join(ROOT, 'appliances/build');
const BOOT_MS = 15 * 60_000;
let site: StormNetwork;
let work: VmDir;
let image: string;
let ownKey: string;
let launchKey: string;

beforeAll(async () => {
  // Cached after the first build (minutes: debootstrap, then the disk). Under the build folder's lock, as
  // build:appliances takes it: a second builder of debian-cloud would remove this one's work folder midway.
  const log = () => undefined;
  image = (await withBuildLock(BUILD, () => buildCloudImage({ out: BUILD, force: false, log }), log, 60 * 60_000)).image;
  work = await makeVmDir('storm-image-appliances-');
  const key = await generatePublisherKey(join(work.path, 'key'));
  const src = join(work.path, 'src', 'debian-cloud');
  await mkdir(src, { recursive: true });
  await writeFile(join(src, 'manifest.json'), await readFile(join(BUILD, 'channel-src', 'debian-cloud-12.0.0', 'manifest.json')));
  const channelDir = join(work.path, 'channel');
  await buildChannel({ src: join(work.path, 'src'), out: channelDir, baseUrl: 'http://127.0.0.1:8090/', keyPath: key.privateKeyPath });
  for (const name of ['own', 'launch'])
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `${name}@storm-test`, '-f', join(work.path, name)]);
  ownKey = (await readFile(join(work.path, 'own.pub'), 'utf8')).trim();
  launchKey = (await readFile(join(work.path, 'launch.pub'), 'utf8')).trim();
  site = await startStormNetwork({ channelDir, publicKey: await readFile(key.publicKeyPath, 'utf8') });
  await site.api.post('/channels', { url: site.feedUrl, publicKey: site.publicKey });
}, 60 * 60_000);

afterAll(async () => {
  await destroyAllInstances(site?.api);
  await site?.cleanup();
  await work?.remove();
}, 180_000);

const get = (id: string) => site.api.get<Instance>(`/instances/${id}`);
const applied = (id: string) =>
  pollUntil(`guest ${id} applied`, async () => ((await get(id)).guestStatus?.phase === 'applied' ? true : undefined), {
    timeoutMs: BOOT_MS,
    everyMs: 3000,
  });
/** Runs a command in the guest over SSH from inside the namespace, as root, with the administrator's own key. */
const ssh = (host: string, command: string, key = join(work.path, 'own')) =>
  site.exec(
    'ssh',
    [
      '-i',
      key,
      '-o',
      'StrictHostKeyChecking=no',
      '-o',
      'UserKnownHostsFile=/dev/null',
      '-o',
      'ConnectTimeout=10',
      '-o',
      'BatchMode=yes',
      '-o',
      'LogLevel=ERROR',
      `root@${host}`,
      command,
    ],
    60_000,
  );
/** SSH answers again (after a restart). */
const sshUp = (host: string) =>
  pollUntil(`ssh to ${host}`, async () => ((await ssh(host, 'true')).code === 0 ? true : undefined), { timeoutMs: BOOT_MS, everyMs: 5000 });
const instanceDir = (id: string) => join(site.stormdData, 'instances', id);
const allocated = async (path: string) => (await stat(path)).blocks * 512;
const backingChain = async (path: string) =>
  JSON.parse((await run('qemu-img', ['info', '--backing-chain', '--output=json', '-U', path])).stdout) as {
    filename: string;
    format: string;
    'backing-filename'?: string;
    'backing-filename-format'?: string;
  }[];
const currentOverlay = async (id: string) => {
  const names = (await readdir(join(instanceDir(id), 'writable'))).filter((n) => /^w\d+\.qcow2$/.test(n));
  return join(instanceDir(id), 'writable', names.sort((a, b) => Number(a.slice(1, -6)) - Number(b.slice(1, -6))).at(-1)!);
};

/**
 * `storm image import` of a raw copy of the image, then a launch: started beside cloud1's boot, since two
 * guests under TCG boot on two cores in the time of one; the last case checks it.
 */
async function importAndLaunch(ownKey: string): Promise<Instance> {
  const raw = join(work.path, 'imported.raw');
  await run('qemu-img', ['convert', '-f', 'qcow2', '-O', 'raw', image, raw]);
  const storm = stormCli(site.apiUrl, site.managerData);
  const imported = await storm.run(['image', 'import', raw, '--name', 'imported-os', '--version', '1.0.0'], { timeoutMs: 300_000 });
  expect(imported.code, imported.output).toBe(0);
  expect(imported.stdout).toContain('imported-os 1.0.0: imported (raw');
  return site.api.post<Instance>('/instances', { appliance: 'imported-os', name: 'imported1', sshKeys: [ownKey] });
}

describe('traditional appliances configured by cloud-init', () => {
  let vm: Instance;
  /** The imported image's instance, launched while cloud1 boots; settled (never rejected) until the last case. */
  let importedLaunch: Promise<{ inst?: Instance; err?: unknown }> | undefined;

  it(
    'boots debian-cloud by firmware; cloud-init sets its name, address, DNS and keys; ssh runs hostname; the manager shows applied',
    async () => {
      await site.api.put('/account/ssh-keys', { keys: [ownKey] });
      vm = await site.api.post<Instance>('/instances', { appliance: 'debian-cloud', name: 'cloud1', sshKeys: [launchKey] });
      const xml = (await run('virsh', ['-c', site.libvirtUri, 'dumpxml', `storm-${vm.id}`])).stdout;
      expect(xml).not.toContain('<kernel>');
      expect(xml).toMatch(/<boot dev=['"]hd['"]\/>/);
      importedLaunch = importAndLaunch(ownKey).then(
        (inst) => ({ inst }),
        (err: unknown) => ({ err }),
      );
      await applied(vm.id);
      expect((await get(vm.id)).guestStatus).toMatchObject({ phase: 'applied', details: 'cloud-init' });
      const r = await ssh(
        'cloud1.storm.internal',
        'hostname; hostname -f; ip -4 -o addr show dev eth0; getent hosts storm.local; cat /root/.ssh/authorized_keys',
      );
      expect(r.code, r.output).toBe(0);
      const [name, fqdn] = r.output.split('\n');
      expect(name).toBe('cloud1');
      expect(fqdn).toBe('cloud1.storm.internal');
      expect(r.output).toContain(` ${vm.ip}/24 `);
      expect(r.output).toMatch(new RegExp(`^${SITE.managerAddress.replace(/\./g, '\\.')}\\s+storm\\.local`, 'm'));
      expect(r.output).toContain(launchKey);
      expect(r.output).toContain(ownKey);
      // The launch's key logs in too.
      expect((await ssh('cloud1.storm.internal', 'hostname', join(work.path, 'launch'))).output.trim()).toBe('cloud1');
    },
    BOOT_MS + 120_000,
  );

  it('shares the one staged image with a second instance: one image file, two overlays', async () => {
    const second = await site.api.post<Instance>('/instances', { appliance: 'debian-cloud', name: 'cloud2', sshKeys: [launchKey] });
    const sha = (await site.api.get<{ images: { sha256: string; kind: string; usedBy: { name: string }[] }[] }>('/images')).images.find(
      (i) => i.kind === 'image' && i.usedBy.some((u) => u.name === 'debian-cloud'),
    )!.sha256;
    expect((await readdir(join(site.stormdData, 'layers'))).filter((f) => f === sha)).toHaveLength(1);
    for (const id of [vm.id, second.id]) {
      const [top, base] = await backingChain(join(instanceDir(id), 'writable', 'w0.qcow2'));
      expect(top?.['backing-filename']).toBe(join(site.stormdData, 'layers', sha));
      expect(top?.['backing-filename-format']).toBe('qcow2');
      expect(base?.format).toBe('qcow2');
      expect((await stat(join(instanceDir(id), 'writable', 'w0.qcow2'))).mode & 0o777).toBe(0o600);
    }
    // The new overlay holds only what its guest wrote so far, far below the image.
    expect(await allocated(join(instanceDir(second.id), 'writable', 'w0.qcow2'))).toBeLessThan((await stat(image)).size / 4);
    await site.api.delete(`/instances/${second.id}`);
  }, 300_000);

  it(
    'restores a file written in the guest by checkpoint and rollback',
    async () => {
      const host = 'cloud1.storm.internal';
      expect((await ssh(host, 'echo before >/root/mark && sync')).code).toBe(0);
      const cp = await site.api.post<{ operation: { checkpoint: string } }>(`/instances/${vm.id}/actions`, {
        action: 'checkpoint',
        label: 'before',
      });
      await sshUp(host);
      // The checkpoint is an external snapshot: a new overlay on the frozen one.
      const chain = await backingChain(await currentOverlay(vm.id));
      expect(chain.map((l) => l['backing-filename-format'] ?? null)).toEqual(['qcow2', 'qcow2', null]);
      expect((await ssh(host, 'echo after >/root/mark && sync && cat /root/mark')).output.trim()).toBe('after');
      await site.api.post(`/instances/${vm.id}/actions`, { action: 'rollback', checkpoint: cp.operation.checkpoint });
      await sshUp(host);
      expect((await ssh(host, 'cat /root/mark')).output.trim()).toBe('before');
      expect((await get(vm.id)).state).toBe('running');
    },
    3 * BOOT_MS,
  );

  it(
    'packages cloud1 as a new image version: the file written in the guest is in it, its identity is not',
    async () => {
      const host = 'cloud1.storm.internal';
      expect((await ssh(host, 'echo packaged-from-cloud1 >/root/in-package && sync')).code).toBe(0);
      const started = Date.now();
      const done = await site.api.post<{ operation: { package?: { name: string; version: string; sha256: string } } }>(
        `/instances/${vm.id}/actions`,
        { action: 'package', name: 'cloud-site', version: '1.0.0' },
      );
      console.log(`package of a running debian-cloud instance: ${Math.round((Date.now() - started) / 1000)} s`);
      const sha = done.operation.package!.sha256;
      const listed = (
        await site.api.get<{ appliances: { name: string; version: string; channelId: string; layers: { kind: string }[] }[] }>(
          '/appliances',
        )
      ).appliances;
      expect(listed).toContainEqual(
        expect.objectContaining({
          name: 'cloud-site',
          version: '1.0.0',
          channelId: 'ch-local',
          layers: [expect.objectContaining({ kind: 'image' })],
        }),
      );
      // The package, read in user space as the host never mounts a guest's filesystem: a standalone qcow2.
      const cached = join(site.managerData, 'images', sha);
      const [only, ...behind] = await backingChain(cached);
      expect(behind).toEqual([]);
      expect(only?.format).toBe('qcow2');
      const raw = join(work.path, 'package.raw');
      await run('qemu-img', ['convert', '-f', 'qcow2', '-O', 'raw', cached, raw]);
      const fs = `${raw}?offset=${2048 * 512}`; // debian-cloud's one partition
      const debugfs = async (request: string) => (await run('debugfs', ['-R', request, fs])).stdout;
      const live = (ls: string) => [...ls.matchAll(/^\/([1-9]\d*)\/\d+\/\d+\/\d+\/([^/]*)\//gm)].map((m) => m[2]);
      expect(await debugfs('cat /root/in-package')).toBe('packaged-from-cloud1\n');
      expect(live(await debugfs('ls -p /etc/ssh')).filter((n) => n?.startsWith('ssh_host_'))).toEqual([]);
      expect(live(await debugfs('ls -p /var/lib'))).not.toContain('cloud');
      expect(live(await debugfs('ls -p /etc'))).not.toContain('storm');
      expect(await debugfs('stat /etc/machine-id')).toMatch(/Size: 0\b/);
      // cloud1 itself goes on, restarted on a new overlay.
      await sshUp(host);
      expect((await ssh(host, 'cat /root/in-package')).output.trim()).toBe('packaged-from-cloud1');
    },
    BOOT_MS + 300_000,
  );

  it(
    'imports a raw image with storm image import; its instance boots on a chain that states every backing format',
    async () => {
      const launched = await (importedLaunch ?? importAndLaunch(ownKey).then((inst) => ({ inst, err: undefined })));
      if (launched.err !== undefined) throw launched.err;
      const inst = launched.inst!;
      const chain = await backingChain(join(instanceDir(inst.id), 'writable', 'w0.qcow2'));
      expect(chain.map((l) => [l.format, l['backing-filename-format'] ?? null])).toEqual([
        ['qcow2', 'raw'],
        ['raw', null],
      ]);
      await applied(inst.id);
      expect((await ssh('imported1.storm.internal', 'hostname')).output.trim()).toBe('imported1');
    },
    BOOT_MS + 360_000,
  );
});
