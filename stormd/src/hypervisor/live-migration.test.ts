import { describe, expect, it } from 'vitest';
import { checkMigrationUris, migrationXml, writableDisks } from './live-migration.js';

// As libvirt answers a running guest's migratable XML: addresses, aliases and indexes of its own.
const LIVE = `<domain type='qemu' id='3'>
  <name>storm-i1</name>
  <os>
    <type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type>
    <kernel>/a/layers/k1</kernel>
    <initrd>/a/layers/i1</initrd>
  </os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw' cache='writeback'/>
      <source file='/a/layers/os' index='2'/>
      <target dev='vda' bus='virtio'/>
      <readonly/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x04' function='0x0'/>
    </disk>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2' cache='writeback'/>
      <source file='/a/instances/i1/writable/w0.qcow2' index='1'/>
      <target dev='vdb' bus='virtio'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x05' function='0x0'/>
    </disk>
    <serial type='pty'>
      <log file='/a/instances/i1/console.log' append='on'/>
      <target type='isa-serial' port='0'/>
    </serial>
  </devices>
</domain>`;

// As the target's define would write it.
const TARGET = `<domain type="qemu">
  <name>storm-i1</name>
  <os><type arch="x86_64" machine="pc">hvm</type><kernel>/b/layers/k1</kernel><initrd>/b/layers/i1</initrd></os>
  <devices>
    <disk type="file" device="disk"><source file="/b/layers/os"/><target dev="vda" bus="virtio"/><readonly/></disk>
    <disk type="file" device="disk"><source file="/b/instances/i1/writable/w0.qcow2"/><target dev="vdb" bus="virtio"/></disk>
    <serial type="pty"><log file="/b/instances/i1/console.log" append="on"/><target port="0"/></serial>
  </devices>
</domain>`;

describe('live migration XML', () => {
  it('names the writable disks only', () => {
    expect(writableDisks(LIVE)).toEqual(['vdb']);
  });

  it("keeps the running guest's devices and takes every host path from the target", () => {
    const out = migrationXml(LIVE, TARGET);
    expect(out).not.toContain('/a/');
    expect(out).toContain("<source file='/b/layers/os' index='2'/>");
    expect(out).toContain("<source file='/b/instances/i1/writable/w0.qcow2' index='1'/>");
    expect(out).toContain('<kernel>/b/layers/k1</kernel>');
    expect(out).toContain('<initrd>/b/layers/i1</initrd>');
    expect(out).toContain("<log file='/b/instances/i1/console.log' append='on'/>");
    expect(out).toContain("machine='pc-i440fx-7.2'");
    expect(out).toContain("slot='0x05'");
  });

  it('refuses a target whose stack lacks one of the disks', () => {
    expect(() => migrationXml(LIVE, TARGET.replace('dev="vdb"', 'dev="vdc"'))).toThrow(/no disk vdb/);
  });
});

describe('migration URIs', () => {
  it('takes qemu /system over tls, tcp or unix, and tcp or unix streams', () => {
    for (const targetUri of [
      'qemu+tls://host-b.example/system',
      'qemu+tcp://10.0.0.2/system',
      'qemu+unix:///system?socket=/tmp/x/libvirt-sock',
    ])
      expect(() => checkMigrationUris({ targetUri, migrateUri: 'tcp://10.0.0.2:49152', disksUri: 'unix:///tmp/x/d.sock' })).not.toThrow();
    expect(() => checkMigrationUris({ targetUri: 'qemu+tls://b/system?pkipath=/etc/pki/storm' })).not.toThrow();
  });

  it('refuses transports that run commands, other drivers, other parameters and other streams', () => {
    for (const targetUri of [
      'qemu+ext:///system?command=/bin/sh',
      'qemu+ssh://b/system',
      'qemu+tls://b/system?command=/bin/sh',
      'qemu+tls://b/session',
      'test:///default',
      'not a uri',
    ])
      expect(() => checkMigrationUris({ targetUri }), targetUri).toThrow(/targetUri/);
    expect(() => checkMigrationUris({ targetUri: 'qemu+tls://b/system', migrateUri: 'exec:/bin/sh' })).toThrow(/migrateUri/);
    expect(() => checkMigrationUris({ targetUri: 'qemu+tls://b/system', disksUri: 'rdma://b' })).toThrow(/disksUri/);
  });
});
