/**
 * `GET /channels/local/*`: the manager's own channel of packaged appliances (feed, signature,
 * descriptors, layer files named by sha256); and `GET /api/v1/packages`. A package is an
 * instance's writable layers (its keys, its data), so the channel is not public: only the manager's
 * hosts (their client certificate) and API token holders read it.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { PackageList } from '../../protocol/index.js';
import type { Database } from '../db/database.js';
import { MgrErr } from '../errors.js';
import type { LocalChannel, PackageRow } from '../lifecycle/local-channel.js';
import type { ApiTokens } from '../auth/api-tokens.js';
import { requireHostOrToken } from '../auth/host-auth.js';
import type { HostRegistry } from '../hosts/host-registry.js';

// A channel server's files, outside /api/v1: not part of the API document.
const FileParams = Type.Object({ '*': Type.String() });

export const localChannelRoutes: FastifyPluginAsyncTypebox<{ local: LocalChannel; hosts: HostRegistry; tokens: ApiTokens }> = async (
  app,
  { local, hosts, tokens },
) => {
  app.get(
    '/channels/local/*',
    { schema: { params: FileParams, hide: true }, onRequest: requireHostOrToken(hosts, tokens) },
    async (request, reply) => {
      const rel = request.params['*'];
      const path = local.filePath(rel);
      const st = path ? await stat(path).catch(() => undefined) : undefined;
      if (!path || !st?.isFile()) throw MgrErr.MGR_ERR_NOT_FOUND(`/channels/local/${rel}`);
      const type = rel.endsWith('.xml') ? 'application/xml' : 'application/octet-stream';
      return reply
        .type(type)
        .header('content-length', st.size)
        .header('etag', `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`)
        .send(createReadStream(path));
    },
  );
};

export const packageRoutes: FastifyPluginAsyncTypebox<{ db: Database }> = async (app, { db }) => {
  app.get('/packages', { schema: { response: { 200: PackageList } } }, async () => {
    const rows = await db.all<PackageRow>('SELECT * FROM packages ORDER BY created_at');
    return {
      packages: rows.map((r) => ({
        name: r.name,
        version: r.version,
        base: { name: r.base_name, version: r.base_version, channelId: r.base_channel },
        sha256: r.sha256,
        size: r.size,
        instanceId: r.instance_id,
        createdAt: r.created_at,
      })),
    };
  });
};
