/** Just enough ELF reading to tell a static executable (no program interpreter) from a dynamic one. */
import { ApplErr } from './errors.js';

const PT_INTERP = 3;

/**
 * True when the 64-bit little-endian ELF in `bytes` has no PT_INTERP program header, i.e. runs
 * without a dynamic loader (static or static-pie).
 *
 * @example
 * isStaticElf(readFileSync('/bin/busybox')); // true for busybox-static
 */
export function isStaticElf(bytes: Buffer): boolean {
  if (bytes.length < 64 || bytes.readUInt32BE(0) !== 0x7f454c46) throw ApplErr.APPL_ERR_BUSYBOX('not an ELF file');
  if (bytes[4] !== 2 || bytes[5] !== 1) throw ApplErr.APPL_ERR_BUSYBOX('not a 64-bit little-endian ELF file');
  const phoff = Number(bytes.readBigUInt64LE(0x20));
  const phentsize = bytes.readUInt16LE(0x36);
  const phnum = bytes.readUInt16LE(0x38);
  if (phoff + phentsize * phnum > bytes.length) throw ApplErr.APPL_ERR_BUSYBOX('truncated ELF program headers');
  for (let i = 0; i < phnum; i++) {
    if (bytes.readUInt32LE(phoff + i * phentsize) === PT_INTERP) return false;
  }
  return true;
}
