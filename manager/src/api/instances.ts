/** `/api/v1/instances`: launch, list, show, act (start | stop | reboot), destroy, console tail. */
import type { FastifyPluginAsync } from 'fastify';
import Type from 'typebox';
import type { InstanceService } from '../instances/instance-service.js';
import type { Launcher, LaunchRequest } from '../instances/launcher.js';
import { type CheckpointStore, checkpointView } from '../lifecycle/checkpoint-store.js';
import type { LifecycleAction, LifecycleService } from '../lifecycle/lifecycle-service.js';
import { MgrErr } from '../errors.js';

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
const Power = Type.Object({ action: Type.Union([Type.Literal('start'), Type.Literal('stop'), Type.Literal('reboot')]) }, { additionalProperties: false });
const Version = Type.String({ pattern: '^[0-9A-Za-z.+-]{1,64}$' });
const Name = Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' });
const ActionBody = Type.Union([
  Power,
  Type.Object({ action: Type.Literal('checkpoint'), label: Type.Optional(Type.String({ maxLength: 200 })) }, { additionalProperties: false }),
  Type.Object({ action: Type.Literal('rollback'), checkpoint: Type.String({ minLength: 1, maxLength: 40 }) }, { additionalProperties: false }),
  Type.Object({ action: Type.Literal('upgrade'), version: Version }, { additionalProperties: false }),
  Type.Object(
    { action: Type.Literal('reprovision'), appliance: Name, version: Type.Optional(Version), params: Type.Optional(Type.Record(Type.String({ maxLength: 64 }), Type.Union([Type.String({ maxLength: 1024 }), Type.Number(), Type.Boolean()]), { maxProperties: 64 })) },
    { additionalProperties: false },
  ),
  Type.Object({ action: Type.Literal('package'), name: Name, version: Version }, { additionalProperties: false }),
  Type.Object({ action: Type.Literal('flatten') }, { additionalProperties: false }),
]);
const SerialQuery = Type.Object({ bytes: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024 * 1024 })) }, { additionalProperties: false });

export const instanceRoutes: FastifyPluginAsync<{ instances: InstanceService; launcher: Launcher; lifecycle: LifecycleService; checkpoints: CheckpointStore }> = async (
  app,
  { instances, launcher, lifecycle, checkpoints },
) => {
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
  app.post('/instances/:id/actions', { schema: { params: IdParams, body: ActionBody } }, async (request) => {
    const id = (request.params as { id: string }).id;
    const body = request.body as { action: string };
    if (body.action === 'start' || body.action === 'stop' || body.action === 'reboot') return instances.act(id, body.action);
    // A lifecycle operation answers the instance as it now is, plus what the operation did.
    const result = await lifecycle.run(id, body as LifecycleAction);
    return { ...(await instances.get(id)), operation: { action: body.action, ...result } };
  });
  app.get('/instances/:id/checkpoints', { schema: { params: IdParams } }, async (request) => {
    const row = await instances.find((request.params as { id: string }).id);
    return { checkpoints: (await checkpoints.list(row.id)).map(checkpointView) };
  });
  app.delete('/instances/:id/checkpoints/:checkpoint', { schema: { params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 63 }), checkpoint: Type.String({ minLength: 1, maxLength: 40 }) }) } }, async (request, reply) => {
    const p = request.params as { id: string; checkpoint: string };
    const row = await instances.find(p.id);
    if (!(await checkpoints.remove(row.id, p.checkpoint))) throw MgrErr.MGR_ERR_NOT_FOUND(`checkpoint ${p.checkpoint} of ${row.name}`);
    // Layers only that checkpoint needed are freed on the host.
    if (row.host_id && !lifecycle.isActive(row.id)) await lifecycle.collectFor(row.id).catch(() => undefined);
    return reply.status(204).send();
  });
  app.get('/instances/:id/console', { schema: { params: IdParams, querystring: SerialQuery } }, async (request) =>
    instances.serial((request.params as { id: string }).id, (request.query as { bytes?: number }).bytes),
  );
};
