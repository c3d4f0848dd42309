/**
 * Chooses the libvirt domain type: `kvm` only when KVM really works here, `qemu` (TCG) otherwise,
 * `test` for libvirt's test driver. A present but broken `/dev/kvm` (no vmx/svm) must not win.
 *
 * @example
 * domainTypeFor('qemu:///system');                       // 'kvm' or 'qemu'
 * domainTypeFor('qemu:///system', { env: { STORM_ACCEL: 'tcg' } }); // 'qemu'
 * domainTypeFor('test:///default');                     // 'test'
 */
import { closeSync, constants, openSync, readFileSync } from 'node:fs';
import { StormdErr } from '../errors.js';

export type DomainType = 'kvm' | 'qemu' | 'test';

/** What accel detection reads from the host; injected in tests. */
export interface AccelProbe {
  /** True when `/dev/kvm` opens read-write. */
  readonly kvmDeviceUsable: () => boolean;
  /** The text of `/proc/cpuinfo`. */
  readonly cpuinfo: () => string;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export const hostProbe: AccelProbe = {
  kvmDeviceUsable: () => {
    try {
      closeSync(openSync('/dev/kvm', constants.O_RDWR));
      return true;
    } catch {
      return false;
    }
  },
  cpuinfo: () => {
    try {
      return readFileSync('/proc/cpuinfo', 'utf8');
    } catch {
      return '';
    }
  },
  env: process.env,
};

/** True when the CPU advertises hardware virtualization (Intel vmx or AMD svm). */
export function cpuHasVirtualization(cpuinfo: string): boolean {
  return /^flags\s*:.*\b(vmx|svm)\b/m.test(cpuinfo);
}

/** The domain type for a hypervisor URI on this host. */
export function domainTypeFor(uri: string, probe: Partial<AccelProbe> = {}): DomainType {
  if (uri.startsWith('test:')) return 'test';
  const p = { ...hostProbe, ...probe };
  const forced = p.env.STORM_ACCEL;
  if (forced === 'kvm') return 'kvm';
  if (forced === 'tcg') return 'qemu';
  if (forced !== undefined && forced !== '')
    throw StormdErr.STORMD_ERR_BAD_INPUT(`STORM_ACCEL must be kvm or tcg, got ${JSON.stringify(forced)}`);
  return p.kvmDeviceUsable() && cpuHasVirtualization(p.cpuinfo()) ? 'kvm' : 'qemu';
}
