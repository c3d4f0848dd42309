/** `GET /api/v1/images/:sha256/blob`: a cached layer's bytes, for hosts staging it (host certificate) or administrators (token). */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ImageParams } from '../../protocol/index.js';
import type { ApiTokens } from '../auth/api-tokens.js';
import { requireHostOrToken } from '../auth/host-auth.js';
import { MgrErr } from '../errors.js';
import { documentAuth } from '../http/openapi.js';
import type { HostRegistry } from '../hosts/host-registry.js';
import type { LayerCache } from '../images/layer-cache.js';

export const imageBlobRoutes: FastifyPluginAsyncTypebox<{ cache: LayerCache; hosts: HostRegistry; tokens: ApiTokens }> = async (
  app,
  { cache, hosts, tokens },
) => {
  app.addHook('onRequest', requireHostOrToken(hosts, tokens));
  app.addHook('onRoute', documentAuth('hostOrAdmin'));
  app.get('/images/:sha256/blob', { schema: { params: ImageParams, produces: ['application/octet-stream'] } }, async (request, reply) => {
    const { sha256 } = request.params;
    const path = cache.path(sha256);
    const st = await stat(path).catch(() => undefined);
    if (!st?.isFile()) throw MgrErr.MGR_ERR_NOT_FOUND(`image ${sha256} is not in the cache`);
    return reply
      .type('application/octet-stream')
      .header('content-length', st.size)
      .send(createReadStream(path, { highWaterMark: 1 << 20 }));
  });
};
