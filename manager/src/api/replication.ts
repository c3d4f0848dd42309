/**
 * Replication of an instance: `PUT /api/v1/instances/:id/replica` (`{ to, every? }`), `GET` it, `DELETE` it
 * (204). docs/move.md, "Replication".
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { InstanceParams, ReplicaBody, ReplicaView } from '../../protocol/index.js';
import { NoContent } from '../http/openapi.js';
import type { Replication } from '../instances/replication-service.js';

export const replicationRoutes: FastifyPluginAsyncTypebox<{ replication: Replication }> = async (app, { replication }) => {
  const params = InstanceParams;
  app.put('/instances/:id/replica', { schema: { params, body: ReplicaBody, response: { 200: ReplicaView } } }, async (request) =>
    replication.replicate(request.params.id, request.body.to, request.body.every ?? null),
  );
  app.get('/instances/:id/replica', { schema: { params, response: { 200: ReplicaView } } }, async (request) =>
    replication.view(request.params.id),
  );
  app.delete('/instances/:id/replica', { schema: { params, response: { 204: NoContent } } }, async (request, reply) => {
    await replication.stop(request.params.id);
    return reply.status(204).send();
  });
};
