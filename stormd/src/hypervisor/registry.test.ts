import { describe, expect, it } from 'vitest';
import { StormdErr } from '../errors.js';
import { LibvirtDriver } from './libvirt-driver.js';
import { createDriver, driverScheme, driverSchemes } from './registry.js';

describe('driver registry', () => {
  it('reads the driver scheme and ignores the transport', () => {
    expect(driverScheme('qemu:///system')).toBe('qemu');
    expect(driverScheme('qemu+tls://h.example/system')).toBe('qemu');
    expect(driverScheme('test:///default')).toBe('test');
  });

  it('serves qemu and test URIs with the libvirt driver, unconnected', () => {
    expect(driverSchemes()).toEqual(expect.arrayContaining(['qemu', 'test']));
    const d = createDriver('test:///default');
    expect(d).toBeInstanceOf(LibvirtDriver);
    expect(d.uri).toBe('test:///default');
    expect((d as LibvirtDriver).domainType).toBe('test');
  });

  it('refuses unknown schemes and non-URIs with the catalog error', () => {
    for (const uri of ['xen:///system', 'not a uri']) {
      let caught: unknown;
      try {
        createDriver(uri);
      } catch (err) {
        caught = err;
      }
      expect(StormdErr.STORMD_ERR_UNKNOWN_DRIVER.is(caught)).toBe(true);
    }
  });
});
