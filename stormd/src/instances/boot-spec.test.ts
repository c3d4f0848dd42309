import { describe, expect, it } from 'vitest';
import { StormdErr } from '../errors.js';
import { buildDomainXml } from '../hypervisor/domain-xml.js';
import { domainNameFor, type LayeredBootInput, layeredBootSpec, layersArg } from './boot-spec.js';

const input: LayeredBootInput = {
  instanceId: 'i-42',
  uuid: '0b7e51a0-8f2e-4f57-9a53-2f9a0b7e51a0',
  kernel: '/b/vmlinuz',
  initrd: '/b/initrd.img',
  layers: [
    { path: '/l/tiny-os.squashfs', format: 'raw' },
    { path: '/l/hello-web.squashfs', format: 'raw' },
  ],
  instanceLayer: '/i/i-42/instance.qcow2',
  memoryMiB: 256,
  vcpus: 1,
  consoleLog: '/i/i-42/console.log',
  nics: [{ mac: '52:54:00:00:00:42', bridge: 'br-storm' }],
};

describe('layered boot spec', () => {
  it('names the domain storm-<instanceId>', () => {
    expect(layeredBootSpec(input).name).toBe('storm-i-42');
    expect(() => domainNameFor('../x')).toThrow(/instance id/);
  });

  it('stacks read-only layers bottom first and the instance layer on top', () => {
    expect(layeredBootSpec(input).disks).toEqual([
      { path: '/l/tiny-os.squashfs', format: 'raw', readonly: true },
      { path: '/l/hello-web.squashfs', format: 'raw', readonly: true },
      { path: '/i/i-42/instance.qcow2', format: 'qcow2', readonly: false },
    ]);
  });

  it('generates storm.layers= from the disk list, with the console and panic flags', () => {
    const spec = layeredBootSpec({ ...input, extraCmdline: ['storm.debug'] });
    expect(spec.boot?.cmdline).toBe('console=ttyS0 storm.layers=vda:ro,vdb:ro,vdc:rw panic=-1 loglevel=4 storm.debug');
    expect(layersArg(spec.disks)).toBe('vda:ro,vdb:ro,vdc:rw');
    expect(spec.boot?.kernel).toBe('/b/vmlinuz');
    expect(spec.boot?.initrd).toBe('/b/initrd.img');
  });

  it('records the instance id in the metadata and builds valid domain XML', () => {
    const spec = layeredBootSpec({ ...input, metadata: { appliance: 'hello-web' } });
    expect(spec.metadata).toEqual({ instance: 'i-42', appliance: 'hello-web' });
    expect(buildDomainXml(spec, 'qemu')).toContain('<target dev="vdc" bus="virtio"/>');
  });

  it('refuses an empty stack and arguments that would fight storm.layers=', () => {
    const bad = (i: LayeredBootInput) => {
      try {
        layeredBootSpec(i);
      } catch (err) {
        return StormdErr.STORMD_ERR_BAD_INPUT.is(err);
      }
      return false;
    };
    expect(bad({ ...input, layers: [] })).toBe(true);
    expect(bad({ ...input, extraCmdline: ['storm.layers=vda:rw'] })).toBe(true);
    expect(bad({ ...input, extraCmdline: ['a b'] })).toBe(true);
  });
});
