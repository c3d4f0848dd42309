import { describe, expect, it } from 'vitest';
import { migrationXml, writableDisks } from './live-migration.js';

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
