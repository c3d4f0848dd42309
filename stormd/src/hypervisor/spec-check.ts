/**
 * Validates a `DomainSpec` before any XML is built, so bad input fails with one clear
 * STORMD_ERR_BAD_INPUT naming every problem instead of an opaque libvirt parse error.
 *
 * @example
 * checkDomainSpec(spec); // throws StormdErr.STORMD_ERR_BAD_INPUT('disks[0].path: must be absolute; …')
 */
import { isIPv4 } from 'node:net';
import { isAbsolute } from 'node:path';
import { StormdErr } from '../errors.js';
import type { DomainSpec } from './driver.js';

/** virtio-blk names run vda..vdz; more disks than that is a caller bug. */
export const MAX_DISKS = 26;
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;
const BRIDGE = /^[A-Za-z0-9_.-]{1,15}$/;

/** Lists what is wrong with `spec` (empty when it is fine). */
export function domainSpecProblems(spec: DomainSpec): string[] {
  const p: string[] = [];
  if (!NAME.test(spec.name)) p.push(`name: ${JSON.stringify(spec.name)} must be 1-64 of [A-Za-z0-9_.-], not starting with a symbol`);
  if (!UUID.test(spec.uuid)) p.push(`uuid: ${JSON.stringify(spec.uuid)} is not a UUID`);
  if (!Number.isInteger(spec.memoryMiB) || spec.memoryMiB < 16) p.push('memoryMiB: must be an integer >= 16');
  if (!Number.isInteger(spec.vcpus) || spec.vcpus < 1 || spec.vcpus > 64) p.push('vcpus: must be an integer in 1..64');
  if (spec.disks.length > MAX_DISKS) p.push(`disks: at most ${MAX_DISKS}`);
  if (!spec.boot && spec.disks.length === 0) p.push('disks: a domain without direct boot needs a disk to boot from');
  spec.disks.forEach((d, i) => {
    if (!isAbsolute(d.path)) p.push(`disks[${i}].path: must be absolute`);
    if (d.format !== 'raw' && d.format !== 'qcow2') p.push(`disks[${i}].format: must be raw or qcow2`);
  });
  p.push(...volumeProblems(spec.volumes ?? []));
  spec.nics.forEach((n, i) => {
    if (!MAC.test(n.mac)) p.push(`nics[${i}].mac: ${JSON.stringify(n.mac)} is not a MAC address`);
    if (!BRIDGE.test(n.bridge)) p.push(`nics[${i}].bridge: ${JSON.stringify(n.bridge)} is not a bridge name`);
    if (n.ip !== undefined && !isIPv4(n.ip)) p.push(`nics[${i}].ip: ${JSON.stringify(n.ip)} is not an IPv4 address`);
  });
  if (spec.boot) {
    if (!isAbsolute(spec.boot.kernel)) p.push('boot.kernel: must be absolute');
    if (!isAbsolute(spec.boot.initrd)) p.push('boot.initrd: must be absolute');
  }
  if (!isAbsolute(spec.consoleLog)) p.push('consoleLog: must be absolute');
  for (const key of Object.keys(spec.metadata ?? {}))
    if (!/^[A-Za-z][A-Za-z0-9_.-]*$/.test(key)) p.push(`metadata: bad key ${JSON.stringify(key)}`);
  return p;
}

/** virtio-blk hands the guest at most 20 bytes of a serial. */
export const VOLUME_SERIAL = /^[A-Za-z0-9_.-]{1,20}$/;

function volumeProblems(volumes: NonNullable<DomainSpec['volumes']>): string[] {
  const p: string[] = [];
  if (volumes.length > MAX_DISKS) p.push(`volumes: at most ${MAX_DISKS}`);
  const serials = new Set<string>();
  volumes.forEach((v, i) => {
    if (!isAbsolute(v.path)) p.push(`volumes[${i}].path: must be absolute`);
    if (!VOLUME_SERIAL.test(v.serial)) p.push(`volumes[${i}].serial: ${JSON.stringify(v.serial)} must be 1-20 of [A-Za-z0-9_.-]`);
    if (serials.has(v.serial)) p.push(`volumes[${i}].serial: ${v.serial} twice`);
    serials.add(v.serial);
  });
  return p;
}

/** The target of the volume at `index`: vdaa, vdab, …; they sort after the stack's vda…vdz, so the guest sees the stack first. */
export function volumeTarget(index: number): string {
  if (!Number.isInteger(index) || index < 0 || index >= MAX_DISKS)
    throw StormdErr.STORMD_ERR_BAD_INPUT(`volume index ${index} out of range`);
  return `vda${String.fromCharCode(97 + index)}`;
}

/** Throws STORMD_ERR_BAD_INPUT listing every problem of `spec`. */
export function checkDomainSpec(spec: DomainSpec): void {
  const problems = domainSpecProblems(spec);
  if (problems.length) throw StormdErr.STORMD_ERR_BAD_INPUT(`domain ${spec.name}: ${problems.join('; ')}`, { details: { problems } });
}

/** The virtio disk name of the disk at `index` in stack order: 0 → vda, 1 → vdb. */
export function diskTarget(index: number): string {
  if (!Number.isInteger(index) || index < 0 || index >= MAX_DISKS) throw StormdErr.STORMD_ERR_BAD_INPUT(`disk index ${index} out of range`);
  return `vd${String.fromCharCode(97 + index)}`;
}
