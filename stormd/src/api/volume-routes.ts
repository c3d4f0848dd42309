/**
 * Data volumes: `GET /v1/volumes`, `PUT /v1/volumes/:name` (201), `DELETE /v1/volumes/:name` (204),
 * `PUT /v1/instances/:id/volumes/:name` (attach, 200), `DELETE /v1/instances/:id/volumes/:name`
 * (detach, 204). Behaviour and errors: `protocol.ts`, `VolumeService`.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { AttachVolumeResponse, VolumeStatus } from '../../protocol.js';
import type { VolumeService } from '../volumes/volume-service.js';
import { AttachVolumeBody, CreateVolumeBody, InstanceVolumeParams, VolumeParams } from './schemas.js';

export interface VolumeRoutesOptions {
  readonly volumes: VolumeService;
}

export const volumeRoutes: FastifyPluginAsync<VolumeRoutesOptions> = async (base, { volumes }) => {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  app.get('/volumes', async (): Promise<VolumeStatus[]> => volumes.list());
  app.put('/volumes/:name', { schema: { params: VolumeParams, body: CreateVolumeBody } }, async (req, reply) => {
    return reply.status(201).send(await volumes.create(req.params.name, req.body));
  });
  app.delete('/volumes/:name', { schema: { params: VolumeParams } }, async (req, reply) => {
    await volumes.remove(req.params.name);
    return reply.status(204).send();
  });
  app.put(
    '/instances/:id/volumes/:name',
    { schema: { params: InstanceVolumeParams, body: AttachVolumeBody } },
    async (req): Promise<AttachVolumeResponse> => volumes.attach(req.params.id, req.params.name, req.body),
  );
  app.delete('/instances/:id/volumes/:name', { schema: { params: InstanceVolumeParams } }, async (req, reply) => {
    await volumes.detach(req.params.id, req.params.name);
    return reply.status(204).send();
  });
};
