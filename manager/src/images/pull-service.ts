/**
 * Pulls an appliance version into the layer cache: each distinct file once, progress as events
 * (`pull.progress` with bytes, rate and ETA, per file and overall), each file recorded in `images`
 * once verified. A cached appliance pulls without any request to its channel.
 *
 * @example
 * await pulls.pull(await catalog.resolve('hello-web', '1.0.0'));
 */
import { errorMessage, StormError } from '../../../common/errors.js';
import type { CatalogEntry } from '../catalog/catalog.js';
import type { Database } from '../db/database.js';
import type { EventBus } from '../events/bus.js';
import { diskImageCheck } from './image-check.js';
import type { LayerCache } from './layer-cache.js';
import type { PullResult } from '../../protocol/index.js';

export class PullService {
  constructor(
    private readonly db: Database,
    private readonly cache: LayerCache,
    private readonly bus: EventBus,
  ) {}

  async pull(entry: CatalogEntry): Promise<PullResult> {
    const distinct = [...new Map(entry.files.map((f) => [f.sha256, f])).values()];
    const total = distinct.reduce((a, f) => a + f.size, 0);
    const done = new Map<string, number>();
    let downloadedBytes = 0;
    const ref = { name: entry.name, version: entry.version };
    this.bus.publish('pull.started', { ...ref, total, files: distinct.length });
    try {
      for (const f of distinct) {
        const label = `${entry.name} ${entry.version} ${f.kind} ${f.role === 'layer' ? 'layer' : 'file'} ${f.sha256.slice(0, 12)}`;
        const image = f.kind === 'image' ? entry.descriptor.image : undefined;
        const check = image ? { check: diskImageCheck(image.format, label) } : {};
        const result = await this.cache.pull({ sha256: f.sha256, size: f.size, url: f.url, label, ...check }, (p) => {
          done.set(f.sha256, p.bytes);
          const bytes = [...done.values()].reduce((a, b) => a + b, 0);
          this.bus.publish('pull.progress', {
            ...ref,
            sha256: f.sha256,
            kind: f.kind,
            fileBytes: p.bytes,
            fileTotal: p.total,
            bytes,
            total,
            rate: p.rate,
            etaSeconds: p.etaSeconds,
          });
        });
        done.set(f.sha256, f.size);
        if (result.downloaded) downloadedBytes += f.size - result.resumedFrom;
        await this.db.run('INSERT INTO images (sha256, size, kind) VALUES (?, ?, ?) ON CONFLICT(sha256) DO NOTHING', [
          f.sha256,
          f.size,
          f.kind,
        ]);
      }
    } catch (err) {
      this.bus.publish('pull.failed', {
        ...ref,
        code: err instanceof StormError ? err.code : 'MGR_ERR_INTERNAL',
        error: errorMessage(err),
      });
      throw err;
    }
    this.bus.publish('pull.completed', { ...ref, total, downloadedBytes });
    return { ...ref, files: distinct.length, bytes: total, downloadedBytes };
  }
}
