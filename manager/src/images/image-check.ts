/**
 * The check a traditional appliance's disk image passes before the layer cache keeps it: pulled
 * from a channel or imported from a file alike (`common/disk-image-check.ts`).
 *
 * @example
 * await cache.pull({ sha256, size, url, check: diskImageCheck('qcow2', 'debian-cloud 12.0.0 image') });
 */
import { type DiskFormat, inspectDiskImage } from '../../../common/disk-image-check.js';
import { MgrErr } from '../errors.js';

/** A `LayerRef.check` that refuses anything but a standalone image of format `format`. */
export function diskImageCheck(format: DiskFormat, label: string): (path: string) => Promise<void> {
  return async (path) => {
    const r = await inspectDiskImage(path, format);
    if (!r.ok) throw MgrErr.MGR_ERR_IMAGE_REFUSED(`${label}: ${r.reason}; nothing was kept`);
  };
}
