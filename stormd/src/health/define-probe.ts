/**
 * A real define to measure, when no launch has given one: a domain shaped like an instance (direct
 * boot and a disk, all pointing at the store's probe files), defined and undefined at once. It is
 * named `stormd-define-probe`, which no instance name can be (`storm-` + an instance id).
 *
 * @example
 * await probeDefine(driver, dataDir); // the WatchedDriver times it
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { StormdErr } from '../errors.js';
import type { HypervisorDriver } from '../hypervisor/driver.js';
import { PROBE_FILE } from './access-checks.js';

export const PROBE_DOMAIN = 'stormd-define-probe';

export async function probeDefine(driver: HypervisorDriver, dataDir: string): Promise<void> {
  await removeProbe(driver); // one a crash left would refuse a define with another UUID
  const layer = join(dataDir, 'layers', PROBE_FILE);
  await driver.define({
    name: PROBE_DOMAIN,
    uuid: randomUUID(),
    memoryMiB: 64,
    vcpus: 1,
    boot: { kernel: layer, initrd: layer, cmdline: 'console=ttyS0' },
    disks: [{ path: join(dataDir, 'instances', PROBE_FILE), format: 'raw', readonly: true }],
    nics: [],
    consoleLog: join(dataDir, 'instances', `${PROBE_FILE}.log`),
  });
  await removeProbe(driver);
}

async function removeProbe(driver: HypervisorDriver): Promise<void> {
  try {
    await driver.undefine(PROBE_DOMAIN);
  } catch (err) {
    if (!StormdErr.STORMD_ERR_DOMAIN_NOT_FOUND.is(err)) throw err;
  }
}
