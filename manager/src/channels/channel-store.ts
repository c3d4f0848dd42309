/**
 * The channels, their appliance versions and each version's files, in sqlite. A refresh replaces a
 * channel's appliances in one transaction, so readers see the old catalog or the new one, never a mix.
 *
 * @example
 * const store = new ChannelStore(db);
 * await store.replaceAppliances(channelId, descriptors, feedSha256);
 */
import type { ApplianceDescriptor } from '../../../channels/src/format/index.js';
import type { Database } from '../db/database.js';

export type ChannelStatus = 'new' | 'ok' | 'failed';

export interface ChannelRow {
  readonly id: string;
  readonly url: string;
  readonly public_key: string | null;
  readonly title: string | null;
  readonly status: ChannelStatus;
  readonly last_refresh: string | null;
  readonly last_error: string | null;
  readonly etag: string | null;
  readonly last_modified: string | null;
  readonly feed_sha256: string | null;
  /** `storm:published` of the feed held (null: none held yet, or a feed without one). */
  readonly feed_published: string | null;
  readonly created_at: string;
}

export interface StoredAppliance {
  readonly channelId: string;
  readonly descriptorUrl: string;
  readonly descriptorSha256: string;
  readonly descriptor: ApplianceDescriptor;
}

/** A file an appliance version needs, bottom layer first; kernel and initrd follow the os layer. */
export interface ApplianceFile {
  readonly position: number;
  readonly role: 'layer' | 'kernel' | 'initrd';
  readonly kind: string;
  readonly sha256: string;
  readonly size: number;
  readonly url: string;
}

/** The files of a descriptor in a fixed order: each layer, and after the os layer its boot files. */
export function filesOf(d: ApplianceDescriptor): ApplianceFile[] {
  const out: ApplianceFile[] = [];
  // A traditional appliance's one file: its disk image, kind `image` (the role column knows layers, kernels and initrds).
  if (d.image) out.push({ position: 0, role: 'layer', kind: 'image', ...pick(d.image) });
  for (const layer of d.layers) {
    out.push({ position: out.length, role: 'layer', kind: layer.kind, sha256: layer.sha256, size: layer.size, url: layer.url });
    if (layer.boot) {
      out.push({ position: out.length, role: 'kernel', kind: 'kernel', ...pick(layer.boot.kernel) });
      out.push({ position: out.length, role: 'initrd', kind: 'initrd', ...pick(layer.boot.initrd) });
    }
  }
  return out;
}

const pick = (f: { sha256: string; size: number; url: string }) => ({ sha256: f.sha256, size: f.size, url: f.url });

export class ChannelStore {
  constructor(private readonly db: Database) {}

  async insert(row: { id: string; url: string; publicKey: string | null }): Promise<void> {
    await this.db.run('INSERT INTO channels (id, url, public_key) VALUES (?, ?, ?)', [row.id, row.url, row.publicKey]);
  }

  list(): Promise<ChannelRow[]> {
    return this.db.all<ChannelRow>('SELECT * FROM channels ORDER BY created_at, id');
  }

  get(id: string): Promise<ChannelRow | undefined> {
    return this.db.get<ChannelRow>('SELECT * FROM channels WHERE id = ?', [id]);
  }

  byUrl(url: string): Promise<ChannelRow | undefined> {
    return this.db.get<ChannelRow>('SELECT * FROM channels WHERE url = ?', [url]);
  }

  async remove(id: string): Promise<boolean> {
    return (await this.db.run('DELETE FROM channels WHERE id = ?', [id])).changes > 0;
  }

  async markFailed(id: string, error: string): Promise<void> {
    await this.db.run(
      "UPDATE channels SET status = 'failed', last_error = ?, last_refresh = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?",
      [error.slice(0, 2000), id],
    );
  }

  /** A 304: the feed is unchanged; only the refresh time and status move. */
  async markUnchanged(id: string): Promise<void> {
    await this.db.run(
      "UPDATE channels SET status = 'ok', last_error = NULL, last_refresh = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?",
      [id],
    );
  }

  /** The descriptors already stored for a channel, keyed by descriptor sha256 (to skip refetching). */
  async knownDescriptors(channelId: string): Promise<Map<string, StoredAppliance>> {
    const rows = await this.db.all<{ descriptor_url: string; descriptor_sha256: string; descriptor: string }>(
      'SELECT descriptor_url, descriptor_sha256, descriptor FROM appliances WHERE channel_id = ?',
      [channelId],
    );
    return new Map(
      rows.map((r) => [
        r.descriptor_sha256,
        {
          channelId,
          descriptorUrl: r.descriptor_url,
          descriptorSha256: r.descriptor_sha256,
          descriptor: JSON.parse(r.descriptor) as ApplianceDescriptor,
        },
      ]),
    );
  }

  /** Replaces the channel's catalog and marks it ok, atomically. */
  async replaceAppliances(
    channelId: string,
    feed: { title: string; sha256: string; published: string | null; etag: string | null; lastModified: string | null },
    appliances: readonly StoredAppliance[],
  ): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.run('DELETE FROM appliances WHERE channel_id = ?', [channelId]);
      for (const a of appliances) {
        const d = a.descriptor;
        await tx.run(
          'INSERT INTO appliances (channel_id, name, version, title, upgrades_from, descriptor_url, descriptor_sha256, descriptor) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
          [channelId, d.name, d.version, d.title, d.upgradesFrom ?? null, a.descriptorUrl, a.descriptorSha256, JSON.stringify(d)],
        );
        for (const f of filesOf(d)) {
          await tx.run(
            'INSERT INTO appliance_files (channel_id, name, version, position, role, kind, sha256, size, url) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
            [channelId, d.name, d.version, f.position, f.role, f.kind, f.sha256, f.size, f.url],
          );
        }
      }
      await tx.run(
        "UPDATE channels SET status = 'ok', last_error = NULL, title = ?, feed_sha256 = ?, feed_published = ?, etag = ?, last_modified = ?, last_refresh = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?",
        [feed.title, feed.sha256, feed.published, feed.etag, feed.lastModified, channelId],
      );
    });
  }
}
