/** `/api/v1/instances`: launch, list, show, act (start | stop | reboot), destroy, console tail. */
import type { FastifyPluginAsync } from 'fastify';
import Type from 'typebox';
import type { InstanceService } from '../instances/instance-service.js';
import type { Launcher, LaunchRequest } from '../instances/launcher.js';

const LaunchBody = Type.Object(
  {
    appliance: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' }),
    version: Type.Optional(Type.String({ pattern: '^[0-9A-Za-z.+-]{1,64}$' })),
    channel: Type.Optional(Type.String({ maxLength: 20 })),
    name: Type.String({ minLength: 1, maxLength: 63 }),
    params: Type.Optional(Type.Record(Type.String({ maxLength: 64 }), Type.Union([Type.String({ maxLength: 1024 }), Type.Number(), Type.Boolean()]), { maxProperties: 64 })),
    host: Type.Optional(Type.String({ maxLength: 253 })),
  },
  { additionalProperties: false },
);
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 63 }) });
const ActionBody = Type.Object({ action: Type.Union([Type.Literal('start'), Type.Literal('stop'), Type.Literal('reboot')]) }, { additionalProperties: false });
const ConsoleQuery = Type.Object({ bytes: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024 * 1024 })) }, { additionalProperties: false });

export const instanceRoutes: FastifyPluginAsync<{ instances: InstanceService; launcher: Launcher }> = async (app, { instances, launcher }) => {
  app.post('/instances', { schema: { body: LaunchBody } }, async (request, reply) => {
    const id = await launcher.launch(request.body as LaunchRequest);
    return reply.status(201).send(await instances.get(id));
  });
  app.get('/instances', async () => ({ instances: await instances.list() }));
  app.get('/instances/:id', { schema: { params: IdParams } }, async (request) => instances.get((request.params as { id: string }).id));
  app.delete('/instances/:id', { schema: { params: IdParams } }, async (request, reply) => {
    await instances.destroy((request.params as { id: string }).id);
    return reply.status(204).send();
  });
  app.post('/instances/:id/actions', { schema: { params: IdParams, body: ActionBody } }, async (request) =>
    instances.act((request.params as { id: string }).id, (request.body as { action: 'start' | 'stop' | 'reboot' }).action),
  );
  app.get('/instances/:id/console', { schema: { params: IdParams, querystring: ConsoleQuery } }, async (request) =>
    instances.console((request.params as { id: string }).id, (request.query as { bytes?: number }).bytes),
  );
};
