/**
 * `PUT /v1/layers/:sha256` stages a layer from the manager (the URL must be on the manager's
 * origin); `DELETE /v1/layers/:sha256` removes one no defined domain uses.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { StageLayerResponse } from '../../protocol.js';
import type { LayerFetcher, LayerStore } from '../store/layer-store.js';
import { Sha256Params, StageLayerBody } from './schemas.js';

export interface LayerSource {
  /** Throws STORMD_ERR_URL_REFUSED for a URL stormd must not fetch. */
  check(url: string): void;
  readonly fetch: LayerFetcher;
}

export interface LayerRoutesOptions {
  readonly store: LayerStore;
  readonly source: LayerSource;
}

export const layerRoutes: FastifyPluginAsync<LayerRoutesOptions> = async (base, opts) => {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  app.put('/layers/:sha256', { schema: { params: Sha256Params, body: StageLayerBody } }, async (req): Promise<StageLayerResponse> => {
    // Checked even when the layer is here already: a bad URL is a caller bug worth reporting every time.
    opts.source.check(req.body.url);
    return opts.store.stage(req.params.sha256, req.body, opts.source.fetch);
  });
  app.delete('/layers/:sha256', { schema: { params: Sha256Params } }, async (req, reply) => {
    await opts.store.remove(req.params.sha256);
    return reply.status(204).send();
  });
};
