import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDriver } from '../hypervisor/registry.js';
import { secureDataFolder } from '../store/store-access.js';
import { DefineWatch, WatchedDriver } from './define-watch.js';
import { probeDomain } from './define-probe.js';
import { HostChecks } from './host-checks.js';
import { resolveQemuUser } from './qemu-user.js';

let dir: string;
let data: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'storm-host-checks-'));
  await chmod(dir, 0o755);
  data = join(dir, 'stormd');
  await mkdir(data);
  await secureDataFolder(data, { gid: (await resolveQemuUser())!.gid }, []);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('HostChecks', () => {
  it('on test:///default: libvirt answers, nothing acts as QEMU, and a probe define measures define time', async () => {
    const watch = new DefineWatch();
    const driver = new WatchedDriver(createDriver('test:///default'), watch);
    const checks = new HostChecks({ driver, watch, dataDir: data, qemu: await resolveQemuUser() });
    try {
      const first = await checks.run();
      expect(first.libvirtUp).toBe(true);
      expect(first.health.checks.map((c) => [c.name, c.status])).toEqual([
        ['libvirt', 'ok'],
        ['store-access', 'skip'],
        ['kvm', 'skip'],
        ['define-time', 'skip'],
        ['fuse', 'ok'],
      ]);
      await checks.idle();
      expect(watch.last?.name).toBe(probeDomain(data));
      expect((await checks.run()).health.checks[3]).toMatchObject({
        name: 'define-time',
        status: 'ok',
        message: expect.stringMatching(/^the last define \(stormd-probe-[0-9a-f]{12}\) took \d+ ms$/),
      });
      // The probe leaves no domain behind.
      expect((await driver.list()).map((d) => d.name)).not.toContain(probeDomain(data));
    } finally {
      await driver.close();
    }
  });

  it('says libvirt does not answer, with the fix, and runs the store check as the qemu user anyway', async () => {
    const watch = new DefineWatch();
    const uri = `qemu:///system?socket=${join(dir, 'no-libvirtd', 'libvirt-sock')}`;
    const driver = new WatchedDriver(createDriver(uri), watch);
    const checks = new HostChecks({ driver, watch, dataDir: data, qemu: await resolveQemuUser(), kvmDevice: join(dir, 'no-kvm') });
    const { health, libvirtUp } = await checks.run();
    expect(libvirtUp).toBe(false);
    expect(health.checks[0]).toMatchObject({
      name: 'libvirt',
      status: 'fail',
      message: expect.stringContaining(`libvirt at ${uri} does not answer: `),
      fix: expect.stringContaining(`virsh -c ${uri} version`),
    });
    expect(health.checks.slice(1).map((c) => [c.name, c.status])).toEqual([
      ['store-access', 'ok'],
      ['kvm', 'skip'],
      ['define-time', 'skip'],
      ['fuse', 'ok'],
    ]);
    await checks.idle(); // no probe while libvirt is down
    expect(watch.last).toBeUndefined();
  });
});
