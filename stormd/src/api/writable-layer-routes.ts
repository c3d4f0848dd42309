/**
 * An instance's writable layers: `GET /v1/instances/:id/writable-layers` (200),
 * `POST /v1/instances/:id/writable-layers` (201, a new current layer), `DELETE
 * /v1/instances/:id/writable-layers/:layerId` (204), `POST /v1/instances/:id/writable-layers/merge`
 * (201, the merged layer). Behaviour and errors: `protocol.ts`, `StackService`.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { WritableLayers } from '../../protocol.js';
import type { StackService } from '../instances/stack-service.js';
import { IdParams, LayerIdParams, MergeLayersBody, NewWritableLayerBody } from './schemas.js';

export interface WritableLayerRoutesOptions {
  readonly stack: StackService;
}

export const writableLayerRoutes: FastifyPluginAsync<WritableLayerRoutesOptions> = async (base, opts) => {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const stack = opts.stack;
  const params = IdParams;

  app.get('/instances/:id/writable-layers', { schema: { params } }, async (req): Promise<WritableLayers> => stack.list(req.params.id));
  app.post('/instances/:id/writable-layers', { schema: { params, body: NewWritableLayerBody } }, async (req, reply) => {
    return reply.status(201).send(await stack.add(req.params.id, req.body));
  });
  app.post('/instances/:id/writable-layers/merge', { schema: { params, body: MergeLayersBody } }, async (req, reply) => {
    return reply.status(201).send(await stack.merge(req.params.id, req.body));
  });
  app.delete('/instances/:id/writable-layers/:layerId', { schema: { params: LayerIdParams } }, async (req, reply) => {
    await stack.remove(req.params.id, req.params.layerId);
    return reply.status(204).send();
  });
};
