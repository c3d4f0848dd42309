/**
 * Hypervisor drivers by URI scheme, as a registry of factories: stormd names a URI in its config
 * and gets the driver that serves it. The transport part (`qemu+ssh`, `qemu+tls`) picks no driver.
 *
 * @example
 * const driver = createDriver('qemu+tls://host/system'); // LibvirtDriver
 * createDriver('xen:///'); // throws STORMD_ERR_UNKNOWN_DRIVER
 */
import { StormdErr } from '../errors.js';
import type { HypervisorDriver } from './driver.js';
import { LibvirtDriver } from './libvirt-driver.js';

export type DriverFactory = (uri: string) => HypervisorDriver;

const factories = new Map<string, DriverFactory>([
  ['qemu', (uri) => new LibvirtDriver(uri)],
  ['test', (uri) => new LibvirtDriver(uri)],
]);

/** The driver scheme of a URI: `qemu+ssh://h/system` → `qemu`. */
export function driverScheme(uri: string): string {
  const m = /^([a-z][a-z0-9]*)(?:\+[a-z0-9]+)?:\/\//i.exec(uri);
  if (!m?.[1]) throw StormdErr.STORMD_ERR_UNKNOWN_DRIVER(`${JSON.stringify(uri)} is not a hypervisor URI`);
  return m[1].toLowerCase();
}

/** Adds or replaces the factory for `scheme` (for drivers outside this module). */
export function registerDriver(scheme: string, factory: DriverFactory): void {
  factories.set(scheme.toLowerCase(), factory);
}

/** The schemes stormd can serve, sorted. */
export function driverSchemes(): string[] {
  return [...factories.keys()].sort();
}

/** A new, not yet connected driver for `uri`. */
export function createDriver(uri: string): HypervisorDriver {
  const factory = factories.get(driverScheme(uri));
  if (!factory) throw StormdErr.STORMD_ERR_UNKNOWN_DRIVER(`${uri} (known schemes: ${driverSchemes().join(', ')})`);
  return factory(uri);
}
