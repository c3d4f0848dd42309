/**
 * The end of an instance's serial console log, read without loading the whole file: guests can
 * write a lot, the manager wants the last screenful.
 *
 * @example
 * await serialTail('/d/instances/i1/console.log', 4096); // { text: '…login: ', size: 18234, offset: 14138 }
 */
import { open, rename, stat } from 'node:fs/promises';
import type { SerialTail } from '../../protocol.js';

export const SERIAL_TAIL_DEFAULT = 64 * 1024;
export const SERIAL_TAIL_MAX = 1024 * 1024;

/** Reads up to `bytes` (capped at SERIAL_TAIL_MAX) from the end of `path`; a missing log is empty. */
export async function serialTail(path: string, bytes = SERIAL_TAIL_DEFAULT): Promise<SerialTail> {
  const want = Math.max(0, Math.min(Math.floor(bytes), SERIAL_TAIL_MAX));
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { text: '', size: 0, offset: 0 };
    throw err;
  }
  try {
    const { size } = await fh.stat();
    const offset = Math.max(0, size - want);
    const buf = Buffer.alloc(size - offset);
    const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
    // A multi-byte character cut at the start decodes as U+FFFD; the rest is exact.
    return { text: buf.subarray(0, bytesRead).toString('utf8'), size, offset };
  } finally {
    await fh.close();
  }
}

/** The log keeps every boot (append); past this size, a start moves it to `console.log.1` first. */
export const SERIAL_ROTATE_BYTES = 4 * 1024 * 1024;

/** Keeps the serial log bounded across boots: one previous generation, the current one growing. */
export async function rotateSerialLog(path: string, limit = SERIAL_ROTATE_BYTES): Promise<void> {
  const size = (await stat(path).catch(() => undefined))?.size ?? 0;
  if (size > limit) await rename(path, `${path}.1`);
}
