/**
 * `buildApp(config)`: the manager's fastify application, wired and ready to `inject`, never listening
 * (main.ts listens). It opens the database, migrates it and makes sure the admin token exists.
 *
 * @example
 * const app = await buildApp(managerConfig({ data: dir }));
 * const res = await app.inject({ method: 'GET', url: '/api/v1/health' });
 * await app.close(); // closes the database too
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { STORM_VERSION } from '../../common/version.js';
import { ApiTokens, ensureAdminToken } from './auth/api-tokens.js';
import { requireAuth } from './auth/require-auth.js';
import { healthRoutes } from './api/health.js';
import { whoamiRoutes } from './api/whoami.js';
import { eventRoutes } from './api/events.js';
import { channelRoutes } from './api/channels.js';
import { applianceRoutes } from './api/appliances.js';
import { imageRoutes } from './api/images.js';
import { Catalog } from './catalog/catalog.js';
import { ChannelService } from './channels/channel-service.js';
import { ChannelStore } from './channels/channel-store.js';
import { EventBus } from './events/bus.js';
import { LayerCache } from './images/layer-cache.js';
import { PullService } from './images/pull-service.js';
import { AddressPolicy } from './net/address-policy.js';
import type { ManagerConfig } from './config.js';
import { Database } from './db/database.js';
import { migrate } from './db/migrations.js';
import { installErrorHandlers, routeNotFound } from './http/error-handler.js';

export interface ManagerContext {
  readonly config: ManagerConfig;
  readonly dataDir: string;
  readonly db: Database;
  readonly bus: EventBus;
  readonly tokens: ApiTokens;
  readonly cache: LayerCache;
  readonly channels: ChannelService;
  readonly catalog: Catalog;
  readonly pulls: PullService;
  /** Starts the background work (channel polling); main.ts calls it, tests usually do not. */
  startBackground(): void;
  readonly adminTokenPath: string;
  /** True when this start created the admin token. */
  readonly adminTokenCreated: boolean;
}

export interface AppOptions {
  /** The libvirt URI of the local host's hypervisor, once resolved (health reports it). */
  readonly localHypervisor?: string | null;
}

declare module 'fastify' {
  interface FastifyInstance {
    storm: ManagerContext;
  }
}

export async function buildApp(config: ManagerConfig, options: AppOptions = {}): Promise<FastifyInstance> {
  const dataDir = resolve(config.data);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const db = await Database.open(join(dataDir, 'storm.db'));
  try {
    await migrate(db);
    const tokens = new ApiTokens(db);
    const admin = await ensureAdminToken(tokens, dataDir);
    const app = Fastify({
      logger: { level: config.logLevel },
      bodyLimit: 1024 * 1024,
      // Our own ids, so log lines of one request can be followed across services.
      genReqId: (() => {
        let n = 0;
        return () => `req-${(++n).toString(36)}`;
      })(),
    }).withTypeProvider<TypeBoxTypeProvider>();
    const bus = new EventBus();
    const policy = new AddressPolicy({ allow: config.channelAllow, deny: config.channelDeny });
    const timeoutMs = config.fetchTimeoutSeconds * 1000;
    const cache = new LayerCache(join(dataDir, 'images'), { policy, timeoutMs });
    await cache.init();
    const channels = new ChannelService({
      store: new ChannelStore(db),
      bus,
      fetch: { policy, timeoutMs },
      allowUnsigned: config.allowUnsignedChannels,
      pollIntervalMs: config.channelPollSeconds * 1000,
    });
    const catalog = new Catalog(db, cache);
    const pulls = new PullService(db, cache, bus);
    const context: ManagerContext = {
      config,
      dataDir,
      db,
      bus,
      tokens,
      cache,
      channels,
      catalog,
      pulls,
      adminTokenPath: admin.path,
      adminTokenCreated: admin.created,
      startBackground: () => channels.startPolling(),
    };
    app.decorate('storm', context);
    app.addHook('onClose', async () => {
      channels.stopPolling();
      await channels.idle();
      await db.close();
    });
    installErrorHandlers(app);

    const hypervisor = options.localHypervisor ?? null;
    await app.register(
      async (api) => {
        await api.register(healthRoutes, { db, version: STORM_VERSION, hypervisor: () => hypervisor });
        // Unknown API routes answer 401 before 404, so the API cannot be mapped without a token.
        api.setNotFoundHandler({ preHandler: requireAuth(tokens) }, routeNotFound);
        await api.register(async (secured) => {
          secured.addHook('onRequest', requireAuth(tokens));
          await secured.register(whoamiRoutes);
          await secured.register(eventRoutes, { bus });
          await secured.register(channelRoutes, { channels });
          await secured.register(applianceRoutes, { catalog, pulls });
          await secured.register(imageRoutes, { db });
        });
      },
      { prefix: '/api/v1' },
    );
    return app;
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
}
