/** `GET /api/v1/images`: the layer cache: each file's sha256, size, kind and the appliances that use it. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ImageList } from '../../protocol/index.js';
import type { Database } from '../db/database.js';

interface ImageRow {
  sha256: string;
  size: number;
  kind: string;
  cached_at: string;
}

export const imageRoutes: FastifyPluginAsyncTypebox<{ db: Database }> = async (app, { db }) => {
  app.get('/images', { schema: { response: { 200: ImageList } } }, async () => {
    const images = await db.all<ImageRow>('SELECT sha256, size, kind, cached_at FROM images ORDER BY cached_at, sha256');
    const uses = await db.all<{ sha256: string; name: string; version: string; channel_id: string }>(
      'SELECT DISTINCT sha256, name, version, channel_id FROM appliance_files ORDER BY name, version',
    );
    const byImage = new Map<string, { name: string; version: string; channelId: string }[]>();
    for (const u of uses)
      byImage.set(u.sha256, [...(byImage.get(u.sha256) ?? []), { name: u.name, version: u.version, channelId: u.channel_id }]);
    return {
      images: images.map((i) => ({
        sha256: i.sha256,
        size: i.size,
        kind: i.kind,
        cachedAt: i.cached_at,
        usedBy: byImage.get(i.sha256) ?? [],
      })),
      totalBytes: images.reduce((a, i) => a + i.size, 0),
    };
  });
};
