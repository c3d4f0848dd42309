/** `/api/v1/instances`: launch, list, show, act (start | stop | reboot | the lifecycle operations), move, destroy, checkpoints, console tail. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  ActionAnswer,
  ActionBody,
  CheckpointList,
  PageQuery,
  CheckpointParams,
  type CheckpointView,
  InstanceList,
  InstanceParams,
  InstanceView,
  LaunchBody,
  MoveAnswer,
  MoveBody,
  type OperationView,
  type PowerAction,
  SerialQuery,
  SerialTail,
} from '../../protocol/index.js';
import { NoContent } from '../http/openapi.js';
import type { InstanceService } from '../instances/instance-service.js';
import type { Replication } from '../instances/replication-service.js';
import type { Launcher } from '../instances/launcher.js';
import type { MoveResult, MoveService } from '../instances/move-service.js';
import { type CheckpointStore, checkpointView } from '../lifecycle/checkpoint-store.js';
import type { LifecycleResult, LifecycleService } from '../lifecycle/lifecycle-service.js';
import { MgrErr } from '../errors.js';
import type { Agree, KeysWithin } from '../http/wire-check.js';

export interface InstanceRouteOptions {
  readonly instances: InstanceService;
  readonly launcher: Launcher;
  readonly moves: MoveService;
  readonly lifecycle: LifecycleService;
  readonly checkpoints: CheckpointStore;
  /** The caller's own SSH public keys (an account setting). */
  readonly accountKeys: (principal: string) => Promise<readonly string[]>;
  readonly replication: Replication;
}

// What the lifecycle service reports must be in the wire types, or serializing drops it.
export type LifecycleAgrees = [
  Agree<KeysWithin<LifecycleResult, OperationView>>,
  Agree<KeysWithin<ReturnType<typeof checkpointView>, CheckpointView>>,
  Agree<KeysWithin<MoveResult, MoveAnswer>>,
];

const isPower = (body: ActionBody): body is PowerAction => body.action === 'start' || body.action === 'stop' || body.action === 'reboot';

export const instanceRoutes: FastifyPluginAsyncTypebox<InstanceRouteOptions> = async (
  app,
  { instances, launcher, moves, lifecycle, checkpoints, accountKeys, replication },
) => {
  const params = InstanceParams;
  app.post('/instances', { schema: { body: LaunchBody, response: { 201: InstanceView } } }, async (request, reply) => {
    // A traditional appliance's cloud-init installs the launch's keys and the caller's own.
    const own = request.principal ? await accountKeys(request.principal) : [];
    const sshKeys = [...(request.body.sshKeys ?? []), ...own];
    const { replicate, ...launch } = request.body;
    // A replica host that cannot keep one refuses the launch before anything is pulled; placement keeps off it.
    const keeper = replicate ? await replication.replicaHost(replicate.to) : undefined;
    const id = await launcher.launch({ ...launch, ...(sshKeys.length ? { sshKeys } : {}), ...(keeper ? { avoid: keeper.id } : {}) });
    // The instance runs either way: a first copy that fails shows as the replica's error, and the next checkpoint retries.
    if (keeper) await replication.replicate(id, keeper.id, replicate?.every ?? null).catch(() => undefined);
    return reply.status(201).send(await instances.get(id));
  });
  app.get('/instances', { schema: { querystring: PageQuery, response: { 200: InstanceList } } }, async (request) =>
    instances.list(request.query),
  );
  app.get('/instances/:id', { schema: { params, response: { 200: InstanceView } } }, async (request) => instances.get(request.params.id));
  app.delete('/instances/:id', { schema: { params, response: { 204: NoContent } } }, async (request, reply) => {
    await instances.destroy(request.params.id);
    return reply.status(204).send();
  });
  app.post('/instances/:id/actions', { schema: { params, body: ActionBody, response: { 200: ActionAnswer } } }, async (request) => {
    const { id } = request.params;
    const body = request.body;
    if (isPower(body)) return instances.act(id, body.action);
    // A lifecycle operation answers the instance as it now is, plus what the operation did.
    const result = await lifecycle.run(id, body);
    return { ...(await instances.get(id)), operation: { action: body.action, ...result } };
  });
  app.post('/instances/:id/move', { schema: { params, body: MoveBody, response: { 200: MoveAnswer } } }, async (request) =>
    moves.move(request.params.id, request.body.to, { allowRestart: request.body.allowRestart ?? false }),
  );
  app.get('/instances/:id/checkpoints', { schema: { params, response: { 200: CheckpointList } } }, async (request) => {
    const row = await instances.find(request.params.id);
    return { checkpoints: (await checkpoints.list(row.id)).map(checkpointView) };
  });
  app.delete(
    '/instances/:id/checkpoints/:checkpoint',
    { schema: { params: CheckpointParams, response: { 204: NoContent } } },
    async (request, reply) => {
      const p = request.params;
      const row = await instances.find(p.id);
      if (!(await checkpoints.remove(row.id, p.checkpoint))) throw MgrErr.MGR_ERR_NOT_FOUND(`checkpoint ${p.checkpoint} of ${row.name}`);
      // Layers only that checkpoint needed are freed on the host.
      if (row.host_id && !lifecycle.isActive(row.id)) await lifecycle.collectFor(row.id).catch(() => undefined);
      return reply.status(204).send();
    },
  );
  app.get('/instances/:id/console', { schema: { params, querystring: SerialQuery, response: { 200: SerialTail } } }, async (request) =>
    instances.serial(request.params.id, request.query.bytes),
  );
};
