import { describe, expect, it } from 'vitest';
import { cpuHasVirtualization, domainTypeFor } from './accel.js';

const vmx = 'processor\t: 0\nflags\t\t: fpu vme de pse vmx sse\n';
const svm = 'processor\t: 0\nflags\t\t: fpu svm lm\n';
const none = 'processor\t: 0\nflags\t\t: fpu vme sse hypervisor\n';
const probe = (dev: boolean, cpuinfo: string, env: Record<string, string> = {}) => ({
  kvmDeviceUsable: () => dev,
  cpuinfo: () => cpuinfo,
  env,
});

describe('accel detection', () => {
  it('finds vmx or svm in the flags line only', () => {
    expect(cpuHasVirtualization(vmx)).toBe(true);
    expect(cpuHasVirtualization(svm)).toBe(true);
    expect(cpuHasVirtualization(none)).toBe(false);
    expect(cpuHasVirtualization('model name\t: vmx-like cpu\nflags\t\t: fpu\n')).toBe(false);
  });

  it('picks kvm only when /dev/kvm opens and the CPU can virtualize', () => {
    expect(domainTypeFor('qemu:///system', probe(true, vmx))).toBe('kvm');
    expect(domainTypeFor('qemu:///system', probe(true, none))).toBe('qemu');
    expect(domainTypeFor('qemu:///system', probe(false, svm))).toBe('qemu');
  });

  it('lets STORM_ACCEL override and rejects other values', () => {
    expect(domainTypeFor('qemu:///system', probe(false, none, { STORM_ACCEL: 'kvm' }))).toBe('kvm');
    expect(domainTypeFor('qemu:///system', probe(true, vmx, { STORM_ACCEL: 'tcg' }))).toBe('qemu');
    expect(() => domainTypeFor('qemu:///system', probe(true, vmx, { STORM_ACCEL: 'hvf' }))).toThrow(/STORM_ACCEL/);
  });

  it('uses type test for the test driver whatever the host has', () => {
    expect(domainTypeFor('test:///default', probe(true, vmx, { STORM_ACCEL: 'kvm' }))).toBe('test');
  });

  it('answers for this host without throwing', () => {
    expect(['kvm', 'qemu']).toContain(domainTypeFor('qemu:///system'));
  });
});
