/**
 * The records of the layer cache (`images`): which verified files it holds, and their kind. The
 * files themselves are the `LayerCache`'s.
 *
 * @example
 * await images.record(tx, { sha256, size, kind: 'deployment' });
 * if (await images.has(sha256)) return;
 */
import type { Database, Queryable } from '../db/database.js';

export interface ImageRecord {
  readonly sha256: string;
  readonly size: number;
  readonly kind: string;
}

export class ImageStore {
  constructor(private readonly db: Database) {}

  /** Records a verified file (once: a second record of the same sha256 changes nothing). */
  async record(q: Queryable, image: ImageRecord): Promise<void> {
    await q.run('INSERT INTO images (sha256, size, kind) VALUES (?, ?, ?) ON CONFLICT(sha256) DO NOTHING', [
      image.sha256,
      image.size,
      image.kind,
    ]);
  }

  async has(sha256: string): Promise<boolean> {
    return (await this.db.get('SELECT 1 FROM images WHERE sha256 = ?', [sha256])) !== undefined;
  }
}
