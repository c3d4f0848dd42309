/**
 * A real define to measure, when no launch has given one: a domain shaped like an instance (direct
 * boot and a disk, all pointing at the store's probe files), defined and undefined at once. It is
 * named `stormd-probe-<hash of the data folder>`: no instance name can be that (`storm-` + an
 * instance id), and stormds sharing one libvirtd never touch each other's.
 *
 * @example
 * await probeDefine(driver, dataDir); // the WatchedDriver times it
 */
import { createHash, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { StormdErr } from '../errors.js';
import type { HypervisorDriver } from '../hypervisor/driver.js';
import { PROBE_DIR } from '../store/store-access.js';
import { probeFiles } from './access-checks.js';

/** The probe domain's name for the stormd whose data folder is `dataDir`. */
export function probeDomain(dataDir: string): string {
  return `stormd-probe-${createHash('sha256').update(dataDir).digest('hex').slice(0, 12)}`;
}

export async function probeDefine(driver: HypervisorDriver, dataDir: string): Promise<void> {
  const name = probeDomain(dataDir);
  await removeProbe(driver, name); // one a crash left would refuse a define with another UUID
  const [layer, disk] = probeFiles(dataDir).map((f) => f.path) as [string, string];
  await driver.define({
    name,
    uuid: randomUUID(),
    memoryMiB: 64,
    vcpus: 1,
    boot: { kernel: layer, initrd: layer, cmdline: 'console=ttyS0' },
    disks: [{ path: disk, format: 'raw', readonly: true }],
    nics: [],
    consoleLog: join(dataDir, PROBE_DIR, 'console.log'),
  });
  await removeProbe(driver, name);
}

async function removeProbe(driver: HypervisorDriver, name: string): Promise<void> {
  try {
    await driver.undefine(name);
  } catch (err) {
    if (!StormdErr.STORMD_ERR_DOMAIN_NOT_FOUND.is(err)) throw err;
  }
}
