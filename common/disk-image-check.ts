/**
 * Checks a disk image from outside before anything boots it: its header read by hand (a qcow2
 * naming a backing file or an external data file is refused before qemu-img could open either),
 * then `qemu-img info --output=json`, whose probed format must be the one stated. The channel
 * build, the manager's pull and `storm image import` all check this way.
 *
 * @example
 * const r = await inspectDiskImage('/var/lib/storm/images/<sha>', 'qcow2');
 * if (!r.ok) throw MgrErr.MGR_ERR_IMAGE_REFUSED(r.reason);
 * r.virtualSize; // bytes the guest sees
 */
import { execFile } from 'node:child_process';
import { open } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

export type DiskFormat = 'qcow2' | 'raw';

export type DiskImageCheck =
  | { readonly ok: true; readonly format: DiskFormat; readonly virtualSize: number }
  | { readonly ok: false; readonly reason: string };

const QCOW2_MAGIC = 0x514649fb; // "QFI\xfb"
/** qcow2 v3 incompatible feature bit 2: the guest data lives in an external file. */
const INCOMPAT_DATA_FILE = 1n << 2n;
/** qemu-img info reads headers only; anything longer is a hostile or broken file. */
const QEMU_IMG_TIMEOUT_MS = 30_000;

/** The refusal of a qcow2 header that points outside the file, or undefined. */
async function headerProblem(path: string): Promise<string | undefined> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(104);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    if (bytesRead < 72 || head.readUInt32BE(0) !== QCOW2_MAGIC) return undefined;
    if (head.readBigUInt64BE(8) !== 0n) return 'it is a qcow2 with a backing file: an image must stand alone';
    const version = head.readUInt32BE(4);
    if (version >= 3 && bytesRead >= 80 && (head.readBigUInt64BE(72) & INCOMPAT_DATA_FILE) !== 0n)
      return 'it is a qcow2 with an external data file: an image must stand alone';
    return undefined;
  } finally {
    await fh.close();
  }
}

/** What the image at `path` is, or why it is refused when it is not a standalone image of format `stated`. */
export async function inspectDiskImage(path: string, stated: DiskFormat): Promise<DiskImageCheck> {
  const early = await headerProblem(path);
  if (early) return { ok: false, reason: early };
  let out: string;
  try {
    // -U: never take or wait for a lock; the probe is read-only and the file is ours alone.
    ({ stdout: out } = await run('qemu-img', ['info', '--output=json', '-U', path], {
      timeout: QEMU_IMG_TIMEOUT_MS,
      maxBuffer: 1 << 20,
    }));
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    return { ok: false, reason: `qemu-img info cannot read it: ${(e.stderr || e.message).trim()}` };
  }
  const info = JSON.parse(out) as {
    format?: string;
    'virtual-size'?: number;
    'backing-filename'?: string;
    'full-backing-filename'?: string;
    'format-specific'?: { data?: { 'data-file'?: string } };
  };
  if (info['backing-filename'] || info['full-backing-filename'])
    return {
      ok: false,
      reason: `it names a backing file (${info['backing-filename'] ?? info['full-backing-filename']}): an image must stand alone`,
    };
  if (info['format-specific']?.data?.['data-file'])
    return {
      ok: false,
      reason: `it names an external data file (${info['format-specific'].data['data-file']}): an image must stand alone`,
    };
  if (info.format !== stated) return { ok: false, reason: `it is ${info.format ?? 'of no known format'}, not ${stated} as stated` };
  const virtualSize = info['virtual-size'];
  if (typeof virtualSize !== 'number' || virtualSize <= 0) return { ok: false, reason: 'qemu-img reports no virtual size' };
  return { ok: true, format: stated, virtualSize };
}

/** MiB needed to hold `bytes`, rounded up. */
export const mibFor = (bytes: number): number => Math.ceil(bytes / (1024 * 1024));
