/**
 * Packages of an instance's writable layers: `POST /v1/instances/:id/packages` (201, `{ sha256,
 * size }`), `GET /v1/instances/:id/packages/:sha256` (the squashfs bytes), `DELETE
 * /v1/instances/:id/packages/:sha256` (204, also when absent), and `DELETE
 * /v1/instances/:id/packages` (204: every package of the instance, for the undo of a build whose
 * answer a crash lost).
 */
import { createReadStream } from 'node:fs';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { StackService } from '../instances/stack-service.js';
import { IdParams, PackageBody, PackageParams } from './schemas.js';

export interface PackageRoutesOptions {
  readonly stack: StackService;
}

export const packageRoutes: FastifyPluginAsync<PackageRoutesOptions> = async (base, opts) => {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const stack = opts.stack;

  app.post('/instances/:id/packages', { schema: { params: IdParams, body: PackageBody } }, async (req, reply) => {
    return reply.status(201).send(await stack.package(req.params.id, req.body));
  });
  app.get('/instances/:id/packages/:sha256', { schema: { params: PackageParams } }, async (req, reply) => {
    const { path, size } = await stack.packageFile(req.params.id, req.params.sha256);
    return reply.type('application/octet-stream').header('content-length', size).send(createReadStream(path));
  });
  app.delete('/instances/:id/packages/:sha256', { schema: { params: PackageParams } }, async (req, reply) => {
    await stack.removePackage(req.params.id, req.params.sha256);
    return reply.status(204).send();
  });
  app.delete('/instances/:id/packages', { schema: { params: IdParams } }, async (req, reply) => {
    await stack.removePackages(req.params.id);
    return reply.status(204).send();
  });
};
