/**
 * `buildStormdApp(deps)`: stormd's fastify application with every `/v1` route, never listening
 * (`serve.ts` listens). With `tls`, the app's server is the mutual-TLS listener of `StormdTls`;
 * without it, the app is for `inject` in tests.
 *
 * @example
 * const app = await buildStormdApp({ hostInfo, store, instances, layerSource });
 * const res = await app.inject({ method: 'GET', url: '/v1/host' });
 * await app.close();
 */
import type { Server } from 'node:http';
import fastifyWebsocket from '@fastify/websocket';
import Fastify, { type FastifyInstance } from 'fastify';
import { DebugRequestLog } from '../../../common/log-format.js';
import type { HostInfo } from '../../protocol.js';
import { Activity } from '../activity.js';
import type { InstancesService } from '../instances/instances-service.js';
import type { LayerStore } from '../store/layer-store.js';
import type { StormdTls } from '../tls/stormd-tls.js';
import { activityRoutes } from './activity-routes.js';
import { installErrorHandlers } from './error-handler.js';
import { hostRoutes } from './host-routes.js';
import { instanceFileRoutes } from './instance-file-routes.js';
import { instanceRoutes } from './instance-routes.js';
import { type LayerSource, layerRoutes } from './layer-routes.js';
import { packageRoutes } from './package-routes.js';
import { serialRoutes } from './serial-routes.js';
import { volumeRoutes } from './volume-routes.js';
import { writableLayerRoutes } from './writable-layer-routes.js';

export interface StormdAppDeps {
  readonly hostInfo: () => Promise<HostInfo>;
  readonly store: LayerStore;
  readonly instances: InstancesService;
  readonly layerSource: LayerSource;
  /** What is under way (the services list their long steps here too); a private one when absent. */
  readonly activity?: Activity;
  /** Serve mutual TLS through this listener; absent: a plain server for `inject`. */
  readonly tls?: StormdTls;
  /** Log level and destination (pino JSON lines; `loggerOptions` makes them readable); no logger when absent. */
  readonly log?: { readonly level: string; readonly stream?: NodeJS.WritableStream };
  /** Largest request body; seed files come base64 in the instance-layer request. */
  readonly bodyLimit?: number;
}

export const DEFAULT_BODY_LIMIT = 8 * 1024 * 1024;

export async function buildStormdApp(deps: StormdAppDeps): Promise<FastifyInstance> {
  const tls = deps.tls;
  const app = Fastify({
    logger: deps.log ? { level: deps.log.level, ...(deps.log.stream ? { stream: deps.log.stream } : {}) } : false,
    logController: new DebugRequestLog(),
    bodyLimit: deps.bodyLimit ?? DEFAULT_BODY_LIMIT,
    // fastify's default strips unknown properties; a body with extras is a caller bug and is refused.
    ajv: { customOptions: { removeAdditional: false } },
    genReqId: (() => {
      let n = 0;
      return () => `req-${(++n).toString(36)}`;
    })(),
    // fastify types its server as http.Server; an https.Server serves the same request handler.
    ...(tls ? { serverFactory: (handler: Parameters<typeof tls.createServer>[0]) => tls.createServer(handler) as unknown as Server } : {}),
  });
  tls?.setLogger(app.log);
  installErrorHandlers(app);
  const activity = deps.activity ?? new Activity();
  // Keystrokes are small; a big frame is a broken or hostile client.
  await app.register(fastifyWebsocket, { options: { maxPayload: 64 * 1024 } });
  app.addHook('preClose', async () => deps.instances.serialPorts.closeAll('stormd is stopping'));
  // Each request is listed until its response closes (sent, or the caller went away); the activity route itself is not news,
  // nor is an attached serial port, which stays open as long as someone watches.
  app.addHook('onRequest', async (req, reply) => {
    if (!req.url.startsWith('/v1/activity') && !req.ws) reply.raw.once('close', activity.begin(`answering ${req.method} ${req.url}`));
  });
  await app.register(
    async (v1) => {
      await v1.register(hostRoutes, { hostInfo: deps.hostInfo });
      await v1.register(activityRoutes, { activity });
      await v1.register(layerRoutes, { store: deps.store, source: deps.layerSource });
      await v1.register(instanceRoutes, { instances: deps.instances });
      await v1.register(instanceFileRoutes, { instances: deps.instances });
      await v1.register(serialRoutes, { instances: deps.instances });
      await v1.register(writableLayerRoutes, { stack: deps.instances.stack });
      await v1.register(packageRoutes, { stack: deps.instances.stack });
      await v1.register(volumeRoutes, { volumes: deps.instances.volumes });
    },
    { prefix: '/v1' },
  );
  return app;
}
