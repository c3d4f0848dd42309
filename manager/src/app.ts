/**
 * `buildApp(config)`: the manager's fastify application over HTTPS (a certificate from its own CA),
 * wired and ready to `inject`, never listening (main.ts listens). Route contexts by credential:
 * public (health, CA and CRL, enrolment with its token), host certificate (heartbeats, layer
 * blobs), API token or console session with its CSRF token (everything else under /api/v1,
 * unknown routes included, and the serial console's WebSocket, whose Origin must be ours too);
 * the web console's pages and assets are public.
 *
 * @example
 * const app = await buildApp(managerConfig({ data: dir }));
 * const res = await app.inject({ method: 'GET', url: '/api/v1/health' });
 * await app.close(); // closes the services and the database too
 */
import fastifySwagger from '@fastify/swagger';
import fastifyWebsocket from '@fastify/websocket';
import Fastify, { type FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { DebugRequestLog, loggerOptions } from '../../common/log-format.js';
import { SERIAL_PROTOCOL } from '../../common/serial-attach.js';
import { STORM_VERSION } from '../../common/version.js';
import { applianceRoutes } from './api/appliances.js';
import { channelRoutes } from './api/channels.js';
import { doctorRoutes } from './api/doctor.js';
import { eventRoutes } from './api/events.js';
import { healthRoutes } from './api/health.js';
import { hostAdminRoutes, hostAgentRoutes, hostJoinRoutes } from './api/hosts.js';
import { imageBlobRoutes } from './api/image-blobs.js';
import { imageRoutes } from './api/images.js';
import { instanceRoutes } from './api/instances.js';
import { accountRoutes } from './api/account.js';
import { imageImportRoutes } from './api/image-import.js';
import { pkiRoutes } from './api/pki.js';
import { reconcileRoutes } from './api/reconcile.js';
import { serialAttachRoutes } from './api/serial-attach.js';
import { whoamiRoutes } from './api/whoami.js';
import { networkRoutes } from './api/network.js';
import { volumeRoutes } from './api/volumes.js';
import { replicationRoutes } from './api/replication.js';
import { uplinkRoutes } from './api/network-uplink.js';
import { kerberosRoutes } from './api/kerberos.js';
import { localChannelRoutes, packageRoutes } from './api/local-channel.js';
import { directoryRoutes } from './directory/routes.js';
import { xmlRpcRoutes } from './protocols/xmlrpc/plugin.js';
import { requireAuth } from './auth/require-auth.js';
import { openSessionAuth } from './auth/session-auth.js';
import type { AdminAccount } from './auth/users.js';
import { consoleRoutes } from './console/console-routes.js';
import { sessionRoutes } from './console/session-routes.js';
import type { ManagerConfig } from './config.js';
import { type ContextOptions, createContext, type ManagerContext } from './context.js';
import { installErrorHandlers, routeNotFound } from './http/error-handler.js';
import { documentAuth, openApiOptions, openApiRoutes } from './http/openapi.js';
import { API_LIMITS, boundListener, fastifyLimitOptions, httpsLimitOptions } from './http/listener-limits.js';

export type { ManagerContext } from './context.js';
export type AppOptions = ContextOptions;

declare module 'fastify' {
  interface FastifyInstance {
    storm: ManagerContext;
    /** How this start settled the console's admin account (main.ts prints it). */
    consoleAdmin: AdminAccount;
  }
}

export async function buildApp(config: ManagerConfig, options: AppOptions = {}): Promise<FastifyInstance> {
  const ctx = await createContext(config, options);
  try {
    const app = Fastify({
      https: { ...ctx.trust.httpsOptions(), ...httpsLimitOptions(API_LIMITS) },
      ...fastifyLimitOptions(API_LIMITS),
      logger: loggerOptions({ format: config.logFormat, level: config.logLevel }),
      logController: new DebugRequestLog(),
      bodyLimit: 1024 * 1024,
      // Unknown properties are refused (400), never silently dropped.
      ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true } },
      genReqId: (() => {
        let n = 0;
        return () => `req-${(++n).toString(36)}`;
      })(),
    }).withTypeProvider<TypeBoxTypeProvider>();
    app.decorate('storm', ctx);
    const auth = await openSessionAuth(ctx.db, config);
    app.decorate('consoleAdmin', auth.admin);
    app.addHook('onClose', async () => ctx.close());
    // The KDC's own news (started, died, restarted, its errors) in the manager's log; its requests at debug.
    ctx.bus.subscribe((e) => {
      const level = e.data['level'];
      if (e.type === 'kerberos.log' && (level === 'debug' || level === 'info' || level === 'warn' || level === 'error'))
        app.log[level](String(e.data['msg']));
      // The CRL timer's failures: hosts stop trusting the manager once the CRL runs out.
      if (e.type === 'pki.crl' && e.data['error']) app.log.error({ reason: e.data['error'] }, 'could not re-issue the CRL; retrying');
    });
    // A new CRL (a host revoked) applies to the next TLS handshake without a restart.
    ctx.trust.onCrlChange(() => {
      if (app.server.listening && 'setSecureContext' in app.server) app.server.setSecureContext(ctx.trust.httpsOptions());
    });
    installErrorHandlers(app);
    boundListener(app.server, API_LIMITS);
    // Before any route: it documents each one as it is added (GET /api/v1/openapi.json).
    await app.register(fastifySwagger, openApiOptions(STORM_VERSION));
    // A refused handshake never reaches a route: log why (cipher, version, certificate), with the peer.
    app.server.on('tlsClientError', (err: Error & { code?: string }, socket: { remoteAddress?: string }) => {
      app.log.warn({ peer: socket.remoteAddress, code: err.code }, `TLS handshake refused: ${err.message}`);
    });

    // WebSockets (the serial console) go through the same routing and hooks as every request;
    // keystrokes are small, and a page gets the one subprotocol it asks for (its CSRF token rides beside it).
    await app.register(fastifyWebsocket, {
      options: {
        maxPayload: 64 * 1024,
        handleProtocols: (offered: Set<string>) => (offered.has(SERIAL_PROTOCOL) ? SERIAL_PROTOCOL : false),
      },
    });
    await app.register(consoleRoutes);
    // Guests' XML-RPC endpoint, outside /api/v1: its credential is the instance token and address.
    await app.register(xmlRpcRoutes, { guests: ctx.guests });
    await app.register(localChannelRoutes, { local: ctx.local, hosts: ctx.hosts, tokens: ctx.tokens });
    const hostOpts = {
      hosts: ctx.hosts,
      trust: ctx.trust,
      fencing: ctx.hostFencing,
      evacuation: ctx.evacuation,
      publicUrl: () => ctx.publicUrl(),
    };
    await app.register(
      async (api) => {
        api.addHook('onRoute', documentAuth('public'));
        await api.register(healthRoutes, { db: ctx.db, version: STORM_VERSION, hypervisor: () => ctx.localHypervisor });
        await api.register(pkiRoutes, { trust: ctx.trust });
        await api.register(hostJoinRoutes, hostOpts);
        await api.register(hostAgentRoutes, hostOpts);
        await api.register(imageBlobRoutes, { cache: ctx.cache, hosts: ctx.hosts, tokens: ctx.tokens });
        await api.register(sessionRoutes, { auth, tokens: ctx.tokens });
        // Unknown API routes answer 401 before 404, so the API cannot be mapped without a token.
        api.setNotFoundHandler({ preHandler: requireAuth(ctx.tokens, auth.sessions) }, routeNotFound);
        await api.register(async (secured) => {
          secured.addHook('onRequest', requireAuth(ctx.tokens, auth.sessions));
          secured.addHook('onRoute', documentAuth('admin'));
          await secured.register(whoamiRoutes);
          await secured.register(openApiRoutes);
          await secured.register(eventRoutes, { bus: ctx.bus });
          await secured.register(channelRoutes, { channels: ctx.channels });
          await secured.register(applianceRoutes, { catalog: ctx.catalog, pulls: ctx.pulls });
          await secured.register(imageRoutes, { db: ctx.db });
          await secured.register(hostAdminRoutes, hostOpts);
          await secured.register(instanceRoutes, {
            replication: ctx.replication,
            instances: ctx.instances,
            launcher: ctx.launcher,
            moves: ctx.moves,
            lifecycle: ctx.lifecycle,
            checkpoints: ctx.checkpoints,
            accountKeys: (principal) => ctx.imageInstances.accountKeys(principal),
          });
          await secured.register(accountRoutes, { images: ctx.imageInstances });
          await secured.register(imageImportRoutes, { imports: ctx.imageImports });
          await secured.register(serialAttachRoutes, { instances: ctx.instances, publicUrl: () => ctx.publicUrl() });
          await secured.register(reconcileRoutes, { reconciler: ctx.reconciler });
          await secured.register(doctorRoutes, { ctx });
          await secured.register(packageRoutes, { db: ctx.db });
          await secured.register(directoryRoutes, { directory: ctx.directory, baseDn: ctx.directoryBaseDn });
          await secured.register(networkRoutes, {
            db: ctx.db,
            records: ctx.records,
            services: ctx.network,
            net: ctx.net,
            domain: ctx.config.domain,
          });
          await secured.register(uplinkRoutes, { uplink: ctx.uplink });
          await secured.register(volumeRoutes, { volumes: ctx.volumes });
          await secured.register(replicationRoutes, { replication: ctx.replication });
          await secured.register(kerberosRoutes, { kerberos: ctx.kerberos, directory: ctx.directory, instances: ctx.instances });
        });
      },
      { prefix: '/api/v1' },
    );
    return app;
  } catch (err) {
    await ctx.close().catch(() => undefined);
    throw err;
  }
}
