/**
 * A traditional instance's disk: a qcow2 overlay (`writable/w0.qcow2`) whose backing file is the
 * appliance's image in the layer store, staged once by sha256 and shared read-only by every
 * instance of it. The backing format is always written into the overlay (`-F`): a backing file
 * whose format is probed is a known escape. A checkpoint stacks a new overlay on the frozen one
 * (`overlayOn`). `image.json` in the folder marks the instance as traditional; `seed.iso` is its
 * cloud-init NoCloud seed (`cloud-seed.ts`).
 *
 * @example
 * await createImageDisk(folder, { image: '/var/lib/stormd/layers/<sha>', sha256, format: 'qcow2', sizeMiB: 2048 });
 * await overlayOn(layerFilePath(folder, 0, false), layerFilePath(folder, 1, false)); // a checkpoint
 */
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runTool } from '../exec.js';
import { fsyncPath } from '../fsync.js';

/** Overlays hold what the guest wrote: root's alone (libvirt's DAC driver hands them to QEMU while it runs). */
export const OVERLAY_MODE = 0o600;
const IMAGE_MARK = 'image.json';

export interface ImageMark {
  readonly sha256: string;
  readonly format: 'qcow2' | 'raw';
  readonly firmware: 'bios' | 'uefi';
}

/** What the instance in `folder` boots from, when it is a traditional one. */
export async function imageOf(folder: string): Promise<ImageMark | undefined> {
  const raw = await readFile(join(folder, IMAGE_MARK), 'utf8').catch(() => undefined);
  return raw === undefined ? undefined : (JSON.parse(raw) as ImageMark);
}

/** The first overlay, grown to `sizeMiB`, and the mark that says which image it stands on. */
export async function createImageDisk(
  folder: string,
  out: string,
  input: {
    readonly image: string;
    readonly sha256: string;
    readonly format: 'qcow2' | 'raw';
    readonly firmware: 'bios' | 'uefi';
    readonly sizeMiB: number;
  },
): Promise<void> {
  await runTool('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', input.format, '-b', input.image, out, `${input.sizeMiB}M`]);
  await chmod(out, OVERLAY_MODE);
  await writeFile(
    join(folder, IMAGE_MARK),
    `${JSON.stringify({ sha256: input.sha256, format: input.format, firmware: input.firmware } satisfies ImageMark)}\n`,
    {
      mode: 0o644,
    },
  );
  await fsyncPath(folder);
}

/** A new overlay on `frozen` (a checkpoint, or a rollback to it): same virtual size, backing format stated. */
export async function overlayOn(frozen: string, out: string): Promise<void> {
  await runTool('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', frozen, out]);
  await chmod(out, OVERLAY_MODE);
}
