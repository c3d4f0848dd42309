/**
 * The guests' own HTTPS listener (`--guest-listen`): `POST /RPC2` and traditional instances' NoCloud-net seeds, nothing of the API. Guests
 * check it against STORM's CA and the manager role (openssl in tiny-os, curl in Debian), so it runs
 * OpenSSL's defaults; the main listener serves /RPC2 too. Its certificate is ECDSA, so a thousand
 * guests booting at once cost a thousand cheap signatures, not RSA ones.
 *
 * @example
 * const listener = new GuestListener('10.77.0.1:8444', { tls: () => trust.guestTlsOptions(), guests, logLevel: 'info', logFormat: 'text' });
 * await listener.start();
 * await listener.close();
 */
import type { TlsOptions } from 'node:tls';
import Fastify, { type FastifyInstance } from 'fastify';
import { parseHostPort } from '../../../../common/config.js';
import { DebugRequestLog, type LogFormat, loggerOptions } from '../../../../common/log-format.js';
import type { GuestApi } from '../../guests/guest-api.js';
import { installErrorHandlers } from '../../http/error-handler.js';
import { boundListener, fastifyLimitOptions, GUEST_LIMITS, httpsLimitOptions, type ListenerLimits } from '../../http/listener-limits.js';
import type { NetworkService } from '../network-service.js';
import { type NoCloudSource, noCloudRoutes } from '../../cloud-images/nocloud-net.js';
import { xmlRpcRoutes } from './plugin.js';

export interface GuestAppDeps {
  /** The guests' TLS (`TrustService.guestTlsOptions`), asked for when the listener starts. */
  readonly tls: () => TlsOptions;
  readonly guests: GuestApi;
  readonly logLevel: string;
  readonly logFormat: LogFormat;
  /** Timeouts and connection caps; default GUEST_LIMITS. */
  readonly limits?: ListenerLimits;
  /** Traditional instances' cloud-init seeds as NoCloud-net (`cloud-images/nocloud-net.ts`). */
  readonly nocloud?: NoCloudSource;
}

export async function buildGuestApp(deps: GuestAppDeps): Promise<FastifyInstance> {
  const limits = deps.limits ?? GUEST_LIMITS;
  const app = Fastify({
    https: { ...deps.tls(), ...httpsLimitOptions(limits) },
    ...fastifyLimitOptions(limits),
    logger: loggerOptions({ format: deps.logFormat, level: deps.logLevel }),
    logController: new DebugRequestLog(),
    bodyLimit: 1024 * 1024,
  });
  installErrorHandlers(app);
  boundListener(app.server, limits);
  app.server.on('tlsClientError', (err: Error & { code?: string }, socket: { remoteAddress?: string }) => {
    app.log.warn({ peer: socket.remoteAddress, code: err.code }, `guest TLS handshake refused: ${err.message}`);
  });
  await app.register(xmlRpcRoutes, { guests: deps.guests });
  if (deps.nocloud) await app.register(noCloudRoutes, { source: deps.nocloud });
  return app;
}

/** The guest listener as one of the manager's network services. */
export class GuestListener implements NetworkService {
  readonly name = 'xmlrpc';
  private app: FastifyInstance | undefined;

  constructor(
    private readonly listen: string,
    private readonly deps: GuestAppDeps,
  ) {}

  async start(): Promise<void> {
    this.app = await buildGuestApp(this.deps);
    const { host, port } = parseHostPort(this.listen, 'guest-listen');
    await this.app.listen({ host, port });
  }

  listensOn(): string {
    const a = this.app?.server.address();
    return `https ${a && typeof a === 'object' ? `${a.address}:${a.port}` : this.listen}`;
  }

  async close(): Promise<void> {
    await this.app?.close();
  }
}
