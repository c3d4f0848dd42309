/**
 * What a host can still give guests. On a real hypervisor that is the kernel's MemAvailable; the
 * test driver has no real memory, so there it is the node's memory minus what running domains hold.
 *
 * @example
 * freeMemoryMiB({ uri: 'test:///default', nodeMemoryMiB: 3072, runningDomainsMiB: 2048 }); // 1024
 */
import { readFile } from 'node:fs/promises';
import { driverScheme } from '../hypervisor/registry.js';

export interface FreeMemoryInput {
  readonly uri: string;
  readonly nodeMemoryMiB: number;
  /** Memory of every running domain (STORM's and others'). */
  readonly runningDomainsMiB: number;
  /** `/proc/meminfo`'s text; read from the host when absent. */
  readonly meminfo?: string;
}

/** MemAvailable of a `/proc/meminfo` text, in MiB; undefined when the field is missing. */
export function memAvailableMiB(meminfo: string): number | undefined {
  const m = /^MemAvailable:\s+(\d+)\s+kB$/m.exec(meminfo);
  return m ? Math.floor(Number(m[1]) / 1024) : undefined;
}

export async function freeMemoryMiB(input: FreeMemoryInput): Promise<number> {
  if (driverScheme(input.uri) === 'qemu') {
    const text = input.meminfo ?? (await readFile('/proc/meminfo', 'utf8').catch(() => ''));
    const available = memAvailableMiB(text);
    if (available !== undefined) return available;
  }
  return Math.max(0, input.nodeMemoryMiB - input.runningDomainsMiB);
}
