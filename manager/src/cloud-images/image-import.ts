/**
 * `storm image import FILE --name N --version V`: a disk image the administrator already has
 * becomes a traditional appliance of the manager's local channel. The bytes stream into the layer
 * cache, hashed as they come, and are kept only when size and sha256 match what the client said and
 * the image passes the same check as a pulled one (`image-check.ts`). Then it is recorded as a
 * package (no base: `import`) and the local channel is rebuilt and read again, like a package.
 *
 * @example
 * await imports.import({ name: 'my-os', version: '1.0.0', format: 'raw', sha256, size }, request.raw);
 */
import { isName, isVersion } from '../../../channels/src/format/index.js';
import type { ChannelService } from '../channels/channel-service.js';
import type { Database } from '../db/database.js';
import { MgrErr } from '../errors.js';
import { diskImageCheck } from '../images/image-check.js';
import type { ImageStore } from '../images/image-store.js';
import type { LayerCache } from '../images/layer-cache.js';
import type { LocalChannel, PackageSpec } from '../lifecycle/local-channel.js';

export interface ImportRequest {
  readonly name: string;
  readonly version: string;
  readonly format: 'qcow2' | 'raw';
  readonly firmware?: 'bios' | 'uefi';
  readonly sha256: string;
  readonly size: number;
  readonly memoryMiB?: number;
  readonly vcpus?: number;
}

export interface ImageImportDeps {
  readonly db: Database;
  readonly cache: LayerCache;
  readonly images: ImageStore;
  readonly local: LocalChannel;
  readonly channels: ChannelService;
}

/** What the local channel's manifest says of an imported image. */
export interface ImportedImage {
  readonly format: 'qcow2' | 'raw';
  readonly firmware: 'bios' | 'uefi';
}

export class ImageImport {
  constructor(private readonly deps: ImageImportDeps) {}

  async import(req: ImportRequest, body: NodeJS.ReadableStream): Promise<{ name: string; version: string; sha256: string; size: number }> {
    if (!isName(req.name)) throw MgrErr.MGR_ERR_VALIDATION(`${JSON.stringify(req.name)} is not an appliance name`);
    if (!isVersion(req.version)) throw MgrErr.MGR_ERR_VALIDATION(`${JSON.stringify(req.version)} is not a version`);
    if (await this.deps.db.get('SELECT 1 FROM packages WHERE name = ? AND version = ?', [req.name, req.version]))
      throw MgrErr.MGR_ERR_CONFLICT(`the local channel has ${req.name} ${req.version}`);
    const label = `import of ${req.name} ${req.version}`;
    await this.deps.cache.ingest({ sha256: req.sha256, size: req.size, label, check: diskImageCheck(req.format, label) }, body);
    // A file the cache already held was not checked as this format: check it now.
    await diskImageCheck(req.format, label)(this.deps.cache.path(req.sha256));
    const spec: PackageSpec & { image: ImportedImage } = {
      files: [{ position: 0, role: 'layer', kind: 'image', sha256: req.sha256, size: req.size }],
      memoryMiB: req.memoryMiB ?? 512,
      vcpus: req.vcpus ?? 1,
      parameters: [],
      guestSpec: { config: [], records: [] },
      image: { format: req.format, firmware: req.firmware ?? 'bios' },
    };
    await this.deps.db.transaction(async (tx) => {
      await this.deps.images.record(tx, { sha256: req.sha256, size: req.size, kind: 'image' });
      await tx.run(
        'INSERT INTO packages (name, version, base_channel, base_name, base_version, sha256, size, instance_id, files) VALUES (?, ?, NULL, ?, ?, ?, ?, NULL, ?)',
        [req.name, req.version, 'import', '', req.sha256, req.size, JSON.stringify(spec)],
      );
    });
    await this.deps.local.rebuild();
    await this.deps.channels.refreshLocal();
    return { name: req.name, version: req.version, sha256: req.sha256, size: req.size };
  }
}
