/**
 * Builds libvirt domain XML from a `DomainSpec` with xmlbuilder2. One builder serves every
 * domain type; the only variation is documented in `variation()`.
 *
 * @example
 * const xml = buildDomainXml(spec, 'qemu');
 * await hypervisor.domainDefineXML(xml);
 */
import { create } from 'xmlbuilder2';

import type { DomainType } from './accel.js';
import type { DomainSpec, VolumeDiskSpec } from './driver.js';
import { checkDomainSpec, diskTarget, volumeTarget } from './spec-check.js';

type XMLBuilder = ReturnType<typeof create>;

/** The namespace of STORM's `<metadata>` element. */
export const STORM_METADATA_NS = 'urn:storm:domain:1';

interface Variation {
  /** The test driver only emulates i686/x86_64 "hvm" and ignores host devices; it keeps no files. */
  readonly machine: string | undefined;
  /** `<video>`/`<memballoon>` none: the test driver accepts them but they mean nothing there. */
  readonly headlessDevices: boolean;
}

// The one documented difference: libvirt's test driver models no qemu machine types.
function variation(type: DomainType): Variation {
  return type === 'test' ? { machine: undefined, headlessDevices: false } : { machine: 'pc', headlessDevices: true };
}

/** The domain XML for `spec` under domain type `type` (`kvm`, `qemu` for TCG, or `test`). */
export function buildDomainXml(spec: DomainSpec, type: DomainType): string {
  checkDomainSpec(spec);
  const v = variation(type);
  const dom = create({ version: '1.0' }).ele('domain', { type });
  dom.ele('name').txt(spec.name);
  dom.ele('uuid').txt(spec.uuid.toLowerCase());
  addMetadata(dom, spec.metadata ?? {});
  dom.ele('memory', { unit: 'MiB' }).txt(String(spec.memoryMiB));
  dom.ele('currentMemory', { unit: 'MiB' }).txt(String(spec.memoryMiB));
  dom.ele('vcpu', { placement: 'static' }).txt(String(spec.vcpus));
  addOs(dom, spec, v);
  dom.ele('features').ele('acpi');
  // A guest that powers off is done; a guest reboot restarts it; a crash stays visible as off.
  dom.ele('on_poweroff').txt('destroy');
  dom.ele('on_reboot').txt('restart');
  dom.ele('on_crash').txt('destroy');
  addDevices(dom.ele('devices'), spec, v);
  return dom.end({ prettyPrint: true });
}

function addMetadata(dom: XMLBuilder, metadata: Readonly<Record<string, string>>): void {
  const root = dom.ele('metadata').ele(STORM_METADATA_NS, 'storm:domain');
  for (const [key, value] of Object.entries(metadata)) root.ele(STORM_METADATA_NS, 'storm:entry', { key }).txt(value);
}

function addOs(dom: XMLBuilder, spec: DomainSpec, v: Variation): void {
  const os = dom.ele('os', spec.firmware === 'uefi' && !spec.boot ? { firmware: 'efi' } : {});
  os.ele('type', v.machine ? { arch: 'x86_64', machine: v.machine } : { arch: 'x86_64' }).txt('hvm');
  if (spec.boot) {
    os.ele('kernel').txt(spec.boot.kernel);
    os.ele('initrd').txt(spec.boot.initrd);
    os.ele('cmdline').txt(spec.boot.cmdline);
  } else {
    os.ele('boot', { dev: 'hd' });
    if (spec.firmware === 'uefi' && spec.nvram) os.ele('nvram').txt(spec.nvram);
  }
  // Headless: firmware prints to the serial console (qemu -machine graphics=off) instead of VGA.
  if (spec.firmware !== 'uefi') os.ele('bios', { useserial: 'yes' });
}

/** A data volume's `<disk>`: writable qcow2 with the serial the guest finds it by. */
export function addVolumeDisk(parent: XMLBuilder, volume: VolumeDiskSpec, target: string): void {
  const d = parent.ele('disk', { type: 'file', device: 'disk' });
  d.ele('driver', { name: 'qemu', type: 'qcow2', cache: 'writeback' });
  d.ele('source', { file: volume.path });
  d.ele('target', { dev: target, bus: 'virtio' });
  d.ele('serial').txt(volume.serial);
}

/** The `<disk>` element alone, as `virsh attach-device` takes it. */
export function volumeDiskXml(volume: VolumeDiskSpec, target: string): string {
  const root = create();
  addVolumeDisk(root, volume, target);
  return root.end({ headless: true, prettyPrint: true });
}

function addDevices(devices: XMLBuilder, spec: DomainSpec, v: Variation): void {
  spec.disks.forEach((disk, i) => {
    const d = devices.ele('disk', { type: 'file', device: 'disk' });
    // Format is always stated: probing a guest-writable image's format is a known escape.
    // cache=writeback: works on every host filesystem (none needs O_DIRECT); the guest still flushes.
    d.ele('driver', { name: 'qemu', type: disk.format, cache: 'writeback' });
    d.ele('source', { file: disk.path });
    d.ele('target', { dev: diskTarget(i), bus: 'virtio' });
    if (disk.readonly) d.ele('readonly');
  });
  (spec.volumes ?? []).forEach((volume, i) => {
    addVolumeDisk(devices, volume, volumeTarget(i));
  });
  for (const nic of spec.nics) {
    const n = devices.ele('interface', { type: 'bridge' });
    n.ele('mac', { address: nic.mac.toLowerCase() });
    n.ele('source', { bridge: nic.bridge });
    n.ele('model', { type: 'virtio' });
    // The guest may send only as itself: its MAC, its reserved address, ARP for that address, DHCP.
    const filter = n.ele('filterref', { filter: 'clean-traffic' });
    if (nic.ip) filter.ele('parameter', { name: 'IP', value: nic.ip });
  }
  // The serial port is a pty stormd attaches to (`serial-port.ts`); libvirt's <log> still writes
  // every byte the guest prints to the log file, attached or not. <console> aliases the same port.
  const serial = devices.ele('serial', { type: 'pty' });
  serial.ele('log', { file: spec.consoleLog, append: 'on' });
  serial.ele('target', { port: '0' });
  devices.ele('console', { type: 'pty' }).ele('target', { type: 'serial', port: '0' });
  if (v.headlessDevices) {
    devices.ele('video').ele('model', { type: 'none' });
    devices.ele('memballoon', { model: 'none' });
  }
}
