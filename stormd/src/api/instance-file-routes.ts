/**
 * An instance's own files, for a cold move between hosts (the manager relays them, mutual TLS on
 * both legs): `GET /v1/instances/:id/files` (their paths, sizes and sha256), `GET
 * /v1/instances/:id/file?path=…` (one file's bytes), `PUT /v1/instances/:id/file?path=…&sha256=…&size=…`
 * (201: the bytes arrived, matched and took their place; 502 `STORMD_ERR_LAYER_MISMATCH` and
 * nothing kept when not). A running instance's files are refused both ways (409): its disks change.
 * Its frozen layers never change, so a replica reads them while it runs: `GET
 * /v1/instances/:id/frozen-files` lists them, and `GET /file` sends one of them (never the current layer).
 */
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { InstanceFiles as InstanceFilesAnswer } from '../../protocol.js';
import { StormdErr } from '../errors.js';
import { InstanceFiles } from '../instances/instance-files.js';
import type { InstancesService } from '../instances/instances-service.js';
import { FilePathQuery, IdParams, ReceiveFileQuerySchema } from './schemas.js';

export interface InstanceFileRoutesOptions {
  readonly instances: InstancesService;
}

const OFF = new Set(['absent', 'shutoff', 'crashed']);

export const instanceFileRoutes: FastifyPluginAsync<InstanceFileRoutesOptions> = async (base, opts) => {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const files = new InstanceFiles(opts.instances.dir);
  const mustBeOff = async (id: string) => {
    const { state } = await opts.instances.get(id).catch(() => ({ state: 'absent' as const }));
    if (!OFF.has(state)) throw StormdErr.STORMD_ERR_DOMAIN_STATE(`storm-${id} is ${state}; its files move only while it is off`);
  };
  // The body is the file's bytes, streamed to disk: never parsed, never buffered whole.
  app.addContentTypeParser('application/octet-stream', (_req, _payload, done) => done(null));

  app.get('/instances/:id/files', { schema: { params: IdParams } }, async (req): Promise<InstanceFilesAnswer> => {
    await mustBeOff(req.params.id);
    return files.list(req.params.id);
  });
  app.get('/instances/:id/frozen-files', { schema: { params: IdParams } }, async (req): Promise<InstanceFilesAnswer> => {
    await opts.instances.get(req.params.id);
    return files.frozen(req.params.id);
  });
  app.get('/instances/:id/file', { schema: { params: IdParams, querystring: FilePathQuery } }, async (req, reply) => {
    // A frozen layer is read while the guest runs (a replica); the current one only while it is off.
    if (await files.isCurrent(req.params.id, req.query.path)) await mustBeOff(req.params.id);
    const { size, stream } = await files.open(req.params.id, req.query.path);
    return reply.type('application/octet-stream').header('content-length', size).send(stream);
  });
  app.put('/instances/:id/file', { schema: { params: IdParams, querystring: ReceiveFileQuerySchema } }, async (req, reply) => {
    await mustBeOff(req.params.id);
    return reply.status(201).send(await files.receive(req.params.id, req.query, req.raw));
  });
};
