import { randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureLibvirtd, type LibvirtdHandle, makeVmDir, type VmDir } from '../../../test/harness/libvirtd.js';
import { StormdErr } from '../errors.js';
import { runDriverConformance } from './driver.conformance.js';
import type { DomainSpec } from './driver.js';
import { LibvirtDriver } from './libvirt-driver.js';

const run = promisify(execFile);

// The test driver keeps domains in memory and opens no files: paths only have to look right.
runDriverConformance(
  'libvirt test:///default',
  async () => new LibvirtDriver('test:///default', { pollMs: 20 }),
  async (name) => ({
    name,
    uuid: randomUUID(),
    memoryMiB: 64,
    vcpus: 1,
    disks: [{ path: `/nonexistent/${name}.qcow2`, format: 'qcow2', readonly: false }],
    nics: [{ mac: '52:54:00:12:34:56', bridge: 'br-storm' }],
    consoleLog: `/nonexistent/${name}.log`,
    metadata: { instance: name, role: 'conformance' },
  }),
  {
    notApplicable: { 'writes the serial console to the log file': 'the test driver runs no guest, so nothing writes a console' },
    stopOutcome: 'graceful',
  },
);

describe('libvirt driver on qemu:///system', () => {
  let lv: LibvirtdHandle | undefined;
  let dir: VmDir | undefined;
  beforeAll(async () => {
    lv = await ensureLibvirtd();
    dir = await makeVmDir('storm-conf-');
  });
  afterAll(async () => {
    await dir?.remove();
    await lv?.stop();
  });

  // No kernel: a blank qcow2 leaves SeaBIOS waiting at "No bootable device", running; it ignores
  // ACPI, so every stop has to fall back to force.
  runDriverConformance(
    'libvirt qemu:///system',
    async () => new LibvirtDriver(lv?.uri ?? 'qemu:///system', { pollMs: 100 }),
    async (name): Promise<DomainSpec> => {
      if (!dir) throw new Error('no vm dir');
      const disk = join(dir.path, `${name}.qcow2`);
      await run('qemu-img', ['create', '-q', '-f', 'qcow2', disk, '16M']);
      return {
        name,
        uuid: randomUUID(),
        memoryMiB: 64,
        vcpus: 1,
        disks: [{ path: disk, format: 'qcow2', readonly: false }],
        nics: [],
        consoleLog: join(dir.path, `${name}.log`),
        metadata: { instance: name },
      };
    },
    { stopTimeoutMs: 1_500, stopOutcome: 'forced', timeoutMs: 60_000 },
  );

  it('connects with the TCG domain type on a host where KVM does not work', async () => {
    const driver = new LibvirtDriver(lv?.uri ?? 'qemu:///system');
    await driver.connect();
    try {
      expect(['kvm', 'qemu']).toContain((await driver.info()).domainType);
      expect(driver.domainType).toBe(process.env.STORM_ACCEL === 'kvm' ? 'kvm' : driver.domainType);
    } finally {
      await driver.close();
    }
  });

  it('fails clearly when used before connect and when the URI has no daemon', async () => {
    await expect(new LibvirtDriver('qemu:///system').list()).rejects.toSatisfy((e) => StormdErr.STORMD_ERR_NOT_CONNECTED.is(e));
    await expect(new LibvirtDriver('qemu+unix:///system?socket=/nonexistent.sock').connect()).rejects.toSatisfy((e) =>
      StormdErr.STORMD_ERR_LIBVIRT.is(e),
    );
  });
});
