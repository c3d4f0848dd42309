import { describe, expect, it } from 'vitest';
import { freeMemoryMiB, memAvailableMiB } from './free-memory.js';

const meminfo = 'MemTotal:       32000000 kB\nMemFree:         1000000 kB\nMemAvailable:   20480000 kB\n';

describe('free memory', () => {
  it('reads MemAvailable for qemu hosts', async () => {
    expect(memAvailableMiB(meminfo)).toBe(20000);
    expect(await freeMemoryMiB({ uri: 'qemu:///system', nodeMemoryMiB: 31250, runningDomainsMiB: 4096, meminfo })).toBe(20000);
  });

  it('subtracts running domains from node memory for the test driver, never below zero', async () => {
    expect(await freeMemoryMiB({ uri: 'test:///default', nodeMemoryMiB: 3072, runningDomainsMiB: 2048, meminfo })).toBe(1024);
    expect(await freeMemoryMiB({ uri: 'test:///default', nodeMemoryMiB: 1024, runningDomainsMiB: 2048 })).toBe(0);
  });

  it('falls back to the subtraction when meminfo has no MemAvailable', async () => {
    expect(await freeMemoryMiB({ uri: 'qemu:///system', nodeMemoryMiB: 2048, runningDomainsMiB: 512, meminfo: 'MemTotal: 1 kB\n' })).toBe(
      1536,
    );
  });
});
