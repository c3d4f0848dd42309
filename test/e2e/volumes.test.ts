/**
 * Data volumes end to end on qemu:///system (issue 15's acceptance line), one booted guest at a time:
 * a volume hot-plugged into a running hello-web guest, a file written to it from the guest's serial
 * shell; an upgrade of the running guest keeps it; checkpoint, flatten, rollback and reprovision of
 * the stopped instance each leave a definition that holds it, and the guest reads the file at its
 * next start; it cannot be removed while attached; removing the instance keeps the volume; hot-plugged
 * into a new instance, the file is there. The guest finds the disk by its serial in /sys/block
 * (tiny-os has no udev) and mounts the ext4 the host made. (A data volume the appliance declares:
 * declared-volume.test.ts, where the guest agent reaches the manager.)
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AttachedVolumeView, VolumeList, VolumeView } from '../../manager/protocol/index.js';
import { ensureLibvirtd, type LibvirtdHandle, makeVmDir, type VmDir } from '../harness/libvirtd.js';
import { publishSampleChannelForTest, type PublishedChannel } from '../helpers/channel-fixture.js';
import { GuestShells } from '../helpers/guest-shell.js';
import { destroyAllInstances, GUEST_FAILED } from '../helpers/instances.js';
import { type ManagerProcess, startManager } from '../helpers/manager-process.js';
import { stopAllProcesses } from '../helpers/process.js';
import { stormCli } from '../helpers/storm-cli.js';
import { startStormd } from '../helpers/stormd-process.js';

const run = promisify(execFile);
const HOST = 'qemu-host';
const VOLUME = 'data1';
const SECRET = `kept-${randomBytes(6).toString('hex')}`;
const BOOT = 'STORM-INIT: root ready';
let libvirtd: LibvirtdHandle;
let dir: VmDir;
let channel: PublishedChannel;
let manager: ManagerProcess;
let shells: GuestShells;

beforeAll(async () => {
  libvirtd = await ensureLibvirtd();
  dir = await makeVmDir('storm-e2e-volumes-');
  channel = await publishSampleChannelForTest();
  manager = await startManager(join(dir.path, 'manager'), ['--channel-allow', '127.0.0.0/8', '--heartbeat', '2']);
  await startStormd(manager, { name: HOST, dir: dir.path, hypervisor: libvirtd.uri });
  shells = new GuestShells(manager);
  await manager.api.post('/channels', { url: channel.feedUrl, publicKey: channel.publicKey });
}, 180_000);

afterAll(async () => {
  shells?.close();
  await destroyAllInstances(manager?.api);
  await stopAllProcesses();
  await channel?.close();
  await dir?.remove();
  await libvirtd?.stop();
}, 120_000);

const consoleText = async (id: string) => (await manager.api.get<{ text: string }>(`/instances/${id}/console?bytes=1048576`)).text;
const boots = async (id: string) => (await consoleText(id)).split(BOOT).length - 1;

/** Waits until boot number `n + 1` of the instance reached tiny-os's shell. */
async function bootedPast(id: string, n: number, timeoutMs = 150_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const parts = (await consoleText(id)).split(BOOT);
    const text = parts.length > n + 1 ? parts.slice(n + 1).join(BOOT) : '';
    if (/STORM-OS: ready/.test(text)) return;
    if (GUEST_FAILED.test(text) || Date.now() > deadline) throw new Error(`boot ${n + 1} never got ready:\n${parts.at(-1)?.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** Finds the volume's disk by its serial (waiting for a hot-plug to show), mounts it at /mnt/data. */
const mountVolume = (serial: string) =>
  [
    'dev=; i=0',
    `while [ -z "$dev" ] && [ $i -lt 30 ]; do for d in /sys/block/vd*; do [ "$(cat $d/serial 2>/dev/null)" = "${serial}" ] && dev=/dev/\${d##*/}; done; [ -z "$dev" ] && sleep 1; i=$((i+1)); done`,
    'mkdir -p /mnt/data',
    '{ grep -q " /mnt/data " /proc/mounts || mount -t ext4 "$dev" /mnt/data; }',
  ].join('; ');

async function readSecret(name: string, serial: string): Promise<string> {
  const r = await shells.run(name, `${mountVolume(serial)} && cat /mnt/data/keep.txt`);
  expect(r.status, r.out).toBe(0);
  return r.out.trimEnd().split(/\r?\n/).at(-1)!.trim();
}

describe('data volumes', () => {
  let web: { id: string; name: string };
  let serial: string;

  it('creates a volume, hot-plugs it into a running guest, which writes a file to it; refuses to remove it while attached', async () => {
    const cli = stormCli(manager.url, join(dir.path, 'manager'));
    const created = await cli.json<VolumeView>('volume', 'create', VOLUME, '--size', '64M');
    expect(created).toMatchObject({ name: VOLUME, sizeMiB: 64, host: HOST, instance: null, serial: `storm-vol-${VOLUME}` });
    serial = created.serial;
    // The host's file: in its store's volumes folder, readable by nobody but root and QEMU's group.
    const file = join(dir.path, HOST, 'volumes', `${VOLUME}.qcow2`);
    expect((await stat(file)).mode & 0o777).toBe(0o660);
    await expect(manager.api.post('/volumes', { name: VOLUME, sizeMiB: 64 })).rejects.toMatchObject({ code: 'MGR_ERR_VOLUME_EXISTS' });

    web = await manager.api.post('/instances', { appliance: 'hello-web', version: '1.0.0', name: 'vol-web1' });
    await bootedPast(web.id, 0);
    const attached = await manager.api.post<AttachedVolumeView>(`/volumes/${VOLUME}/attach`, { instance: web.name });
    expect(attached).toMatchObject({ instance: web.name, instanceId: web.id, live: true });
    const w = await shells.run(web.name, `${mountVolume(serial)} && echo ${SECRET} > /mnt/data/keep.txt && sync`);
    expect(w.status, w.out).toBe(0);
    expect(await readSecret(web.name, serial)).toBe(SECRET);

    await expect(manager.api.delete(`/volumes/${VOLUME}`)).rejects.toMatchObject({ code: 'MGR_ERR_VOLUME_ATTACHED' });
    const rm = await cli.run(['volume', 'rm', VOLUME]);
    expect(rm.code).not.toBe(0);
    expect(rm.output).toContain('MGR_ERR_VOLUME_ATTACHED');
  }, 240_000);

  it('keeps the volume and its file through upgrade, checkpoint, flatten, rollback and reprovision', async () => {
    const operate = async (body: object) => {
      const before = await boots(web.id);
      const done = await manager.api.post<{ operation: { checkpoint: string | null; restarted: boolean } }>(
        `/instances/${web.id}/actions`,
        body,
      );
      if (done.operation.restarted) await bootedPast(web.id, before);
      return done.operation;
    };
    const up = await operate({ action: 'upgrade', version: '1.1.0' });
    expect(up.restarted).toBe(true);
    expect(await readSecret(web.name, serial)).toBe(SECRET);
    // The rest on the stopped instance, so each operation only redefines its domain (one boot at the end
    // reads the file): the definition each one leaves must still hold the volume.
    await manager.api.post(`/instances/${web.id}/actions`, { action: 'stop' });
    const keeps = async (body: object) => {
      const op = await operate(body);
      expect(op.restarted).toBe(false);
      const { stdout } = await run('virsh', ['-c', libvirtd.uri, 'dumpxml', '--inactive', `storm-${web.id}`]);
      expect(stdout, JSON.stringify(body)).toContain(`<serial>${serial}</serial>`);
      return op;
    };
    // A checkpoint gives flatten its second frozen layer to merge.
    await keeps({ action: 'checkpoint', label: 'before flatten' });
    await keeps({ action: 'flatten' });
    await keeps({ action: 'rollback', checkpoint: up.checkpoint });
    await keeps({ action: 'reprovision', appliance: 'hello-web', version: '1.1.0' });
    const before = await boots(web.id);
    await manager.api.post(`/instances/${web.id}/actions`, { action: 'start' });
    await bootedPast(web.id, before);
    expect(await readSecret(web.name, serial)).toBe(SECRET);
  }, 600_000);

  it('outlives its instance, and a new instance reads the file', async () => {
    await manager.api.delete(`/instances/${web.id}`);
    const { volumes } = await manager.api.get<VolumeList>('/volumes');
    expect(volumes).toEqual([expect.objectContaining({ name: VOLUME, instance: null, instanceId: null })]);

    const next = await manager.api.post<{ id: string; name: string }>('/instances', {
      appliance: 'hello-web',
      version: '1.0.0',
      name: 'vol-web2',
    });
    await bootedPast(next.id, 0);
    const cli = stormCli(manager.url, join(dir.path, 'manager'));
    const attach = await cli.run(['volume', 'attach', VOLUME, next.name]);
    expect(attach.code, attach.output).toBe(0);
    expect(attach.stdout).toContain('hot-plugged');
    expect(await readSecret(next.name, serial)).toBe(SECRET);

    // Detached (unmounted first) and removed: the file goes with it.
    expect((await shells.run(next.name, 'umount /mnt/data')).status).toBe(0);
    await manager.api.post(`/volumes/${VOLUME}/detach`, {});
    await manager.api.delete(`/volumes/${VOLUME}`);
    expect((await manager.api.get<VolumeList>('/volumes')).volumes).toEqual([]);
    await expect(stat(join(dir.path, HOST, 'volumes', `${VOLUME}.qcow2`))).rejects.toMatchObject({ code: 'ENOENT' });
  }, 300_000);
});
