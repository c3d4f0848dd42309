/**
 * Data volumes: `GET /api/v1/volumes`, `POST /api/v1/volumes` (201), `DELETE /api/v1/volumes/:name`
 * (204; 409 `MGR_ERR_VOLUME_ATTACHED` while attached), `POST /api/v1/volumes/:name/attach` and
 * `POST /api/v1/volumes/:name/detach`. docs/volumes.md.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AttachedVolumeView, AttachVolumeBody, CreateVolumeBody, VolumeList, VolumeParams, VolumeView } from '../../protocol/index.js';
import { NoContent } from '../http/openapi.js';
import type { VolumeService } from '../volumes/volume-service.js';

export const volumeRoutes: FastifyPluginAsyncTypebox<{ volumes: VolumeService }> = async (app, { volumes }) => {
  app.get('/volumes', { schema: { response: { 200: VolumeList } } }, async () => ({ volumes: await volumes.list() }));
  app.post('/volumes', { schema: { body: CreateVolumeBody, response: { 201: VolumeView } } }, async (request, reply) =>
    reply.status(201).send(await volumes.create(request.body)),
  );
  app.delete('/volumes/:name', { schema: { params: VolumeParams, response: { 204: NoContent } } }, async (request, reply) => {
    await volumes.remove(request.params.name);
    return reply.status(204).send();
  });
  app.post(
    '/volumes/:name/attach',
    { schema: { params: VolumeParams, body: AttachVolumeBody, response: { 200: AttachedVolumeView } } },
    async (request) => volumes.attach(request.params.name, request.body.instance),
  );
  app.post('/volumes/:name/detach', { schema: { params: VolumeParams, response: { 200: VolumeView } } }, async (request) =>
    volumes.detach(request.params.name),
  );
};
