import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secureDataFolder } from '../store/store-access.js';
import { accessChecks, runsSystemQemu } from './access-checks.js';
import { type QemuUser, resolveQemuUser } from './qemu-user.js';

let dir: string;
let qemu: QemuUser;
let kvmGid: number;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'storm-access-'));
  await chmod(dir, 0o755);
  qemu = (await resolveQemuUser())!;
  kvmGid = Number(execFileSync('getent', ['group', 'kvm'], { encoding: 'utf8' }).split(':')[2]);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** A store as stormd sets it up at start. */
async function store(parent: string): Promise<string> {
  const data = join(parent, 'stormd');
  await mkdir(data, { recursive: true });
  await secureDataFolder(data, { gid: qemu.gid }, []);
  return data;
}

/** A character device that opens like /dev/null (1:3), with /dev/kvm's possible ownerships. */
function fakeKvm(name: string, group: number, mode: string): string {
  const path = join(dir, name);
  execFileSync('mknod', [path, 'c', '1', '3']);
  execFileSync('chown', [`0:${group}`, path]);
  execFileSync('chmod', [mode, path]);
  return path;
}

describe('checks as the qemu user', () => {
  it('apply only where libvirt runs QEMU as its qemu user', async () => {
    expect(runsSystemQemu('qemu:///system')).toBe(true);
    expect(runsSystemQemu('qemu:///system?socket=/run/x/libvirt-sock')).toBe(true);
    expect(runsSystemQemu('qemu+ssh://root@h/system')).toBe(true);
    expect(runsSystemQemu('qemu:///session')).toBe(false);
    expect(runsSystemQemu('test:///default')).toBe(false);
    const [store_, kvm] = await accessChecks({ dataDir: dir, qemu, uri: 'test:///default' });
    expect([store_.status, kvm.status]).toEqual(['skip', 'skip']);
    expect((await accessChecks({ dataDir: dir, qemu, uri: 'qemu:///system', uid: 1000 }))[0].message).toMatch(/stormd is not root/);
  });

  it('pass for a store at its modes and /dev/kvm root:kvm 0660', async () => {
    const data = await store(join(dir, 'good'));
    const [s, k] = await accessChecks({ dataDir: data, qemu, uri: 'qemu:///system', kvmDevice: fakeKvm('kvm-debian', kvmGid, '0660') });
    expect(s).toMatchObject({ name: 'store-access', status: 'ok' });
    expect(k).toMatchObject({ name: 'kvm', status: 'ok', message: expect.stringContaining('crw-rw---- root:kvm') });
  });

  it("keep their probe files in probe/, out of every scan of layers/ and instances/, and remove an older stormd's", async () => {
    const data = await store(join(dir, 'probes'));
    await writeFile(join(data, 'layers', '.qemu-probe'), '');
    await writeFile(join(data, 'instances', '.qemu-probe'), '');
    const [s] = await accessChecks({ dataDir: data, qemu, uri: 'qemu:///system', kvmDevice: join(dir, 'absent') });
    expect(s.status).toBe('ok');
    expect(await readdir(join(data, 'layers'))).toEqual([]);
    expect(await readdir(join(data, 'instances'))).toEqual([]);
    expect((await readdir(join(data, 'probe'))).sort()).toEqual(['disk', 'layer']);
    const folder = await stat(join(data, 'probe'));
    const instances = await stat(join(data, 'instances'));
    expect([folder.mode & 0o7777, folder.uid, folder.gid]).toEqual([instances.mode & 0o7777, instances.uid, instances.gid]);
  });

  it('name a store folder the qemu user cannot pass itself', async () => {
    const data = await store(join(dir, 'shut'));
    await chmod(join(data, 'instances'), 0o700);
    const [s] = await accessChecks({ dataDir: data, qemu, uri: 'qemu:///system', kvmDevice: join(dir, 'absent') });
    expect(s.status).toBe('fail');
    expect(s.message).toMatch(
      new RegExp(`cannot reach ${join(data, 'instances')}: it cannot pass ${join(data, 'instances')} \\(drwx------ root:`),
    );
  });

  it('name the folder the qemu user cannot pass, and the fix', async () => {
    const home = join(dir, 'home');
    const data = await store(home);
    await chmod(home, 0o700);
    const [s] = await accessChecks({ dataDir: data, qemu, uri: 'qemu:///system', kvmDevice: join(dir, 'absent') });
    expect(s).toMatchObject({
      status: 'fail',
      fix: `let it through: chmod o+x ${home} (it lists nothing that way), or run stormd with --data outside private folders, e.g. /var/lib/stormd`,
    });
    expect(s.message).toBe(
      `libvirt's qemu user libvirt-qemu (uid ${qemu.uid}) cannot reach ${join(data, 'layers')}: it cannot pass ${home} (drwx------ root:root), so QEMU cannot open any disk of this host`,
    );
  });

  it('fail for /dev/kvm 0600 root:root, saying what it costs and what Debian sets', async () => {
    const data = await store(join(dir, 'kvm'));
    const [, k] = await accessChecks({ dataDir: data, qemu, uri: 'qemu:///system', kvmDevice: fakeKvm('kvm-bare', 0, '0600') });
    expect(k.status).toBe('fail');
    expect(k.message).toMatch(
      /KVM is present but libvirt's qemu user libvirt-qemu .* cannot open .*kvm-bare \(crw------- root:root\): libvirt then probes QEMU again on every define/,
    );
    expect(k.fix).toMatch(/chgrp kvm .*kvm-bare && chmod 0660/);
    const [, absent] = await accessChecks({ dataDir: data, qemu, uri: 'qemu:///system', kvmDevice: join(dir, 'none') });
    expect(absent).toMatchObject({ status: 'skip', message: expect.stringContaining('TCG') });
  });
});
