import { describe, expect, it } from 'vitest';
import { create } from 'xmlbuilder2';
import { StormdErr } from '../errors.js';
import type { DomainSpec } from './driver.js';
import { buildDomainXml, STORM_METADATA_NS } from './domain-xml.js';
import { diskTarget } from './spec-check.js';

const base: DomainSpec = {
  name: 'storm-i1',
  uuid: '6F1C1C1E-1111-4222-8333-444455556666',
  memoryMiB: 256,
  vcpus: 2,
  boot: { kernel: '/b/vmlinuz', initrd: '/b/initrd.img', cmdline: 'console=ttyS0 storm.layers=vda:ro,vdb:rw' },
  disks: [
    { path: '/l/os.squashfs', format: 'raw', readonly: true },
    { path: '/i/instance.qcow2', format: 'qcow2', readonly: false },
  ],
  nics: [{ mac: '52:54:00:AA:BB:CC', bridge: 'br-storm' }],
  consoleLog: '/i/console.log',
  metadata: { instance: 'i1', host: 'h1' },
};

/** Parses XML back into plain objects (xmlbuilder2's object form: attributes as `@name`, text as `#`). */
type Node = Record<string, unknown>;
function parse(xml: string): Node {
  return (create(xml).end({ format: 'object' }) as { domain: Node }).domain;
}
const list = (v: unknown): Node[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]) as Node[];
const at = (n: unknown, key: string): Node => (n as Node)[key] as Node;

describe('domain XML', () => {
  it('states type, name, uuid, memory, vcpus, ACPI and the lifecycle actions', () => {
    const d = parse(buildDomainXml(base, 'qemu'));
    expect(d['@type']).toBe('qemu');
    expect(d['name']).toBe('storm-i1');
    expect(d['uuid']).toBe('6f1c1c1e-1111-4222-8333-444455556666');
    expect(d['memory']).toEqual({ '@unit': 'MiB', '#': '256' });
    expect(at(d, 'vcpu')['#']).toBe('2');
    expect(d['features']).toHaveProperty('acpi');
    expect([d['on_poweroff'], d['on_reboot'], d['on_crash']]).toEqual(['destroy', 'restart', 'destroy']);
  });

  it('boots the kernel directly when boot is set', () => {
    const os = at(parse(buildDomainXml(base, 'kvm')), 'os');
    expect(os['kernel']).toBe('/b/vmlinuz');
    expect(os['initrd']).toBe('/b/initrd.img');
    expect(os['cmdline']).toBe('console=ttyS0 storm.layers=vda:ro,vdb:rw');
    expect(os['boot']).toBeUndefined();
  });

  it('boots from the first disk when boot is absent', () => {
    const { boot: _unused, ...noBoot } = base;
    const os = at(parse(buildDomainXml(noBoot, 'qemu')), 'os');
    expect(os['kernel']).toBeUndefined();
    expect(os['boot']).toEqual({ '@dev': 'hd' });
    expect(os['bios']).toEqual({ '@useserial': 'yes' });
  });

  it('lets libvirt pick OVMF for UEFI, with the variable store at the path the spec gives', () => {
    const { boot: _unused, ...noBoot } = base;
    const os = at(parse(buildDomainXml({ ...noBoot, firmware: 'uefi', nvram: '/i/i1/uefi-vars.fd' }, 'qemu')), 'os');
    expect(os['@firmware']).toBe('efi');
    expect(os['nvram']).toBe('/i/i1/uefi-vars.fd');
    expect(os['bios']).toBeUndefined();
  });

  it('attaches one virtio disk per layer in stack order with the format stated', () => {
    const disks = list(at(parse(buildDomainXml(base, 'qemu')), 'devices')['disk']);
    expect(disks.map((d) => at(d, 'target'))).toEqual([
      { '@dev': 'vda', '@bus': 'virtio' },
      { '@dev': 'vdb', '@bus': 'virtio' },
    ]);
    expect(disks.map((d) => at(d, 'source')['@file'])).toEqual(['/l/os.squashfs', '/i/instance.qcow2']);
    expect(disks.map((d) => at(d, 'driver')['@type'])).toEqual(['raw', 'qcow2']);
    expect(disks.every((d) => at(d, 'driver')['@name'] === 'qemu' && typeof at(d, 'driver')['@cache'] === 'string')).toBe(true);
    expect(disks.map((d) => 'readonly' in d)).toEqual([true, false]);
  });

  it('adds data volumes after the stack: writable qcow2, targets vdaa…, each with its serial', () => {
    const spec: DomainSpec = {
      ...base,
      volumes: [
        { path: '/v/data1.qcow2', serial: 'storm-vol-data1' },
        { path: '/v/logs.qcow2', serial: 'storm-vol-logs' },
      ],
    };
    const disks = list(at(parse(buildDomainXml(spec, 'qemu')), 'devices')['disk']);
    expect(disks.map((d) => at(d, 'target')['@dev'])).toEqual(['vda', 'vdb', 'vdaa', 'vdab']);
    expect(disks.slice(2).map((d) => [at(d, 'source')['@file'], d['serial'], at(d, 'driver')['@type'], 'readonly' in d])).toEqual([
      ['/v/data1.qcow2', 'storm-vol-data1', 'qcow2', false],
      ['/v/logs.qcow2', 'storm-vol-logs', 'qcow2', false],
    ]);
    // virtio-blk hands the guest 20 bytes of a serial; a longer one, or one twice, is refused.
    const bad = {
      ...base,
      volumes: [
        { path: '/v/a.qcow2', serial: 'storm-vol-much-too-long' },
        { path: 'rel.qcow2', serial: 'x' },
        { path: '/v/b', serial: 'x' },
      ],
    };
    expect(() => buildDomainXml(bad, 'qemu')).toThrow(/volumes\[0\]\.serial.*volumes\[1\]\.path.*volumes\[2\]\.serial: x twice/);
  });

  it('adds bridged virtio NICs with the given MAC, held to it (and to their address) by clean-traffic', () => {
    const nics = list(at(parse(buildDomainXml(base, 'qemu')), 'devices')['interface']);
    expect(nics).toEqual([
      {
        '@type': 'bridge',
        mac: { '@address': '52:54:00:aa:bb:cc' },
        source: { '@bridge': 'br-storm' },
        model: { '@type': 'virtio' },
        filterref: { '@filter': 'clean-traffic' },
      },
    ]);
    const pinned = list(
      at(parse(buildDomainXml({ ...base, nics: [{ mac: '52:54:00:aa:bb:cc', bridge: 'br-storm', ip: '10.77.0.5' }] }, 'qemu')), 'devices')[
        'interface'
      ],
    );
    expect(pinned[0]!['filterref']).toEqual({ '@filter': 'clean-traffic', parameter: { '@name': 'IP', '@value': '10.77.0.5' } });
    expect(() => buildDomainXml({ ...base, nics: [{ mac: '52:54:00:aa:bb:cc', bridge: 'br-storm', ip: '10.77.0.500' }] }, 'qemu')).toThrow(
      /nics\[0\]\.ip/,
    );
  });

  it('makes the serial port a pty, logged to the log file, and points <console> at it', () => {
    const dev = at(parse(buildDomainXml(base, 'qemu')), 'devices');
    expect(at(dev, 'serial')['@type']).toBe('pty');
    expect(at(at(dev, 'serial'), 'log')).toEqual({ '@file': '/i/console.log', '@append': 'on' });
    expect(at(dev, 'console')['@type']).toBe('pty');
    expect(at(at(dev, 'console'), 'target')).toEqual({ '@type': 'serial', '@port': '0' });
  });

  it('keeps metadata in the storm namespace', () => {
    const xml = buildDomainXml(base, 'qemu');
    const md = at(at(parse(xml), 'metadata'), 'storm:domain');
    expect(md['@xmlns:storm']).toBe(STORM_METADATA_NS);
    expect(list(md['storm:entry'])).toEqual([
      { '@key': 'instance', '#': 'i1' },
      { '@key': 'host', '#': 'h1' },
    ]);
  });

  it('escapes text so a cmdline or path cannot inject elements', () => {
    const xml = buildDomainXml({ ...base, boot: { ...base.boot!, cmdline: 'a</cmdline><evil/>' } }, 'qemu');
    expect(xml).toContain('<cmdline>a&lt;/cmdline&gt;&lt;evil/&gt;</cmdline>');
    expect(Object.keys(at(parse(xml), 'os'))).not.toContain('evil');
  });

  it('differs for the test driver only by type, machine and headless devices', () => {
    const q = parse(buildDomainXml(base, 'qemu'));
    const t = parse(buildDomainXml(base, 'test'));
    expect(t['@type']).toBe('test');
    expect(at(at(t, 'os'), 'type')).toEqual({ '@arch': 'x86_64', '#': 'hvm' });
    expect(at(at(q, 'os'), 'type')).toEqual({ '@arch': 'x86_64', '@machine': 'pc', '#': 'hvm' });
    const strip = (d: Node) => {
      const { video: _v, memballoon: _m, ...rest } = at(d, 'devices');
      return { ...d, '@type': 'x', os: { ...at(d, 'os'), type: 'x' }, devices: rest };
    };
    expect(strip(t)).toEqual(strip(q));
  });

  it('rejects bad specs with every problem named', () => {
    const bad: DomainSpec = {
      ...base,
      name: '-x',
      uuid: 'nope',
      memoryMiB: 1,
      nics: [{ mac: 'zz', bridge: 'br0' }],
      disks: [{ path: 'rel.img', format: 'raw', readonly: true }],
    };
    let err: unknown;
    try {
      buildDomainXml(bad, 'qemu');
    } catch (e) {
      err = e;
    }
    expect(StormdErr.STORMD_ERR_BAD_INPUT.is(err)).toBe(true);
    for (const field of ['name', 'uuid', 'memoryMiB', 'nics[0].mac', 'disks[0].path']) expect((err as Error).message).toContain(field);
  });

  it('names disks vda..vdz', () => {
    expect([diskTarget(0), diskTarget(2), diskTarget(25)]).toEqual(['vda', 'vdc', 'vdz']);
    expect(() => diskTarget(26)).toThrow(/out of range/);
  });
});
