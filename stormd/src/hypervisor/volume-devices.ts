/**
 * Data volumes in a domain's XML: find one by its serial, pick a free target, add or remove its
 * `<disk>` in the persistent config (a define of the edited XML, which libvirt allows while the
 * domain runs: it becomes the next boot's config), and hot-plug it with `virsh attach-device
 * --live` (the libvirt binding has no device calls). The guest sees a hot-plugged disk through
 * ACPI PCI hotplug.
 *
 * @example
 * const config = withVolume(await dom.getXMLDesc(INACTIVE), volumeDiskXml(volume, freeVolumeTarget([xml])));
 * await virshDevice(uri, 'attach-device', 'storm-i1', volumeDiskXml(volume, 'vdaa'));
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTool } from '../exec.js';
import { StormdErr } from '../errors.js';
import { MAX_DISKS, volumeTarget } from './spec-check.js';

const DISK = /<disk\b[^>]*>[\s\S]*?<\/disk>/g;
const TARGET = /<target\s+dev=['"]([^'"]+)['"]/;

/** The `<disk>` element carrying `serial`, or undefined. */
export function volumeDisk(xml: string, serial: string): string | undefined {
  return [...xml.matchAll(DISK)].map((m) => m[0]).find((d) => d.includes(`<serial>${serial}</serial>`));
}

/** The first volume target (vdaa, vdab, …) no disk of any of `xmls` uses. */
export function freeVolumeTarget(xmls: readonly string[]): string {
  const used = new Set<string>();
  for (const xml of xmls) for (const [disk] of xml.matchAll(DISK)) used.add(TARGET.exec(disk)?.[1] ?? '');
  for (let i = 0; i < MAX_DISKS; i++) if (!used.has(volumeTarget(i))) return volumeTarget(i);
  throw StormdErr.STORMD_ERR_BAD_INPUT(`no free volume target: at most ${MAX_DISKS} volumes per instance`);
}

/** `xml` with `disk` added as the last device. */
export function withVolume(xml: string, disk: string): string {
  if (!xml.includes('</devices>')) throw StormdErr.STORMD_ERR_LIBVIRT('domain XML without <devices>');
  return xml.replace('</devices>', `${disk}\n</devices>`);
}

/** `xml` without the `<disk>` carrying `serial`. */
export function withoutVolume(xml: string, serial: string): string {
  const disk = volumeDisk(xml, serial);
  return disk ? xml.replace(disk, '') : xml;
}

/** `virsh attach-device|detach-device DOMAIN FILE --live` on the running guest. */
export async function virshDevice(uri: string, verb: 'attach-device' | 'detach-device', domain: string, diskXml: string): Promise<void> {
  // The device XML names a host path only; a private folder keeps even that to root.
  const dir = await mkdtemp(join(tmpdir(), 'stormd-device-'));
  try {
    const file = join(dir, 'disk.xml');
    await writeFile(file, diskXml, { mode: 0o600 });
    await runTool('virsh', ['-q', '-c', uri, verb, domain, file, '--live'], 60_000);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
