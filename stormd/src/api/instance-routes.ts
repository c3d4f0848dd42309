/**
 * Instances: `GET /v1/instances`, `GET /v1/instances/:id`, `PUT /v1/instances/:id/layer`,
 * `PUT /v1/instances/:id/domain`, `DELETE /v1/instances/:id/domain`, `POST /v1/instances/:id/actions`,
 * `GET /v1/instances/:id/console`, `DELETE /v1/instances/:id`, `PUT /v1/instances/:id/disk` (a traditional instance's disk),
 * and live migration: `PUT /v1/instances/:id/incoming` (target), `POST /v1/instances/:id/migrate` (source).
 */
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type {
  IncomingInstanceResponse,
  InstanceActionResponse,
  InstanceStatus,
  MigrateInstanceResponse,
  SerialTail,
} from '../../protocol.js';
import type { InstancesService } from '../instances/instances-service.js';
import {
  SerialQuery,
  CreateImageDiskBody,
  CreateInstanceLayerBody,
  DefineDomainBody,
  IdParams,
  IncomingInstanceBody,
  InstanceActionBody,
  MigrateInstanceBody,
} from './schemas.js';

export interface InstanceRoutesOptions {
  readonly instances: InstancesService;
}

export const instanceRoutes: FastifyPluginAsync<InstanceRoutesOptions> = async (base, opts) => {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const svc = opts.instances;
  const params = IdParams;

  app.get('/instances', async (): Promise<InstanceStatus[]> => svc.list());
  app.get('/instances/:id', { schema: { params } }, async (req): Promise<InstanceStatus> => svc.get(req.params.id));
  app.put('/instances/:id/layer', { schema: { params, body: CreateInstanceLayerBody } }, async (req, reply) => {
    const status = await svc.createLayer(req.params.id, req.body);
    return reply.status(201).send(status);
  });
  app.put('/instances/:id/disk', { schema: { params, body: CreateImageDiskBody } }, async (req, reply) => {
    const status = await svc.createDisk(req.params.id, req.body);
    return reply.status(201).send(status);
  });
  app.put(
    '/instances/:id/domain',
    { schema: { params, body: DefineDomainBody } },
    async (req): Promise<InstanceStatus> => svc.define(req.params.id, req.body),
  );
  app.delete('/instances/:id/domain', { schema: { params } }, async (req): Promise<InstanceStatus> => svc.undefine(req.params.id));
  app.post(
    '/instances/:id/actions',
    { schema: { params, body: InstanceActionBody } },
    async (req): Promise<InstanceActionResponse> => svc.action(req.params.id, req.body),
  );
  app.put(
    '/instances/:id/incoming',
    { schema: { params, body: IncomingInstanceBody } },
    async (req): Promise<IncomingInstanceResponse> => svc.incoming(req.params.id, req.body),
  );
  app.post(
    '/instances/:id/migrate',
    { schema: { params, body: MigrateInstanceBody } },
    async (req): Promise<MigrateInstanceResponse> => svc.migrate(req.params.id, req.body),
  );
  app.get(
    '/instances/:id/console',
    { schema: { params, querystring: SerialQuery } },
    async (req): Promise<SerialTail> => svc.serial(req.params.id, req.query.bytes),
  );
  app.delete('/instances/:id', { schema: { params } }, async (req, reply) => {
    await svc.remove(req.params.id);
    return reply.status(204).send();
  });
};
