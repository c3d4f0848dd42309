/**
 * The guests' own HTTPS listener (`--guest-listen`): `POST /RPC2` only, nothing of the API. Its TLS
 * also accepts the minimal stacks appliances carry: busybox's wget sends no signature_algorithms
 * extension, which TLS 1.2 reads as "RSA with SHA-1" for the server's key-exchange signature, and
 * OpenSSL 3 refuses that above security level 0. The main listener keeps the strict defaults and
 * serves /RPC2 too, for guests with a modern client (curl, python). Its certificate is ECDSA, so a
 * thousand guests booting at once cost a thousand cheap signatures, not RSA ones.
 *
 * @example
 * const guestApp = await buildGuestApp(ctx);
 * await guestApp.listen({ host: '10.77.0.1', port: 8444 });
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { ManagerContext } from '../../context.js';
import { installErrorHandlers } from '../../http/error-handler.js';
import { xmlRpcRoutes } from './plugin.js';

export async function buildGuestApp(ctx: ManagerContext): Promise<FastifyInstance> {
  const app = Fastify({
    https: ctx.trust.guestTlsOptions(),
    logger: { level: ctx.config.logLevel },
    bodyLimit: 1024 * 1024,
  });
  installErrorHandlers(app);
  app.server.on('tlsClientError', (err: Error & { code?: string }, socket: { remoteAddress?: string }) => {
    app.log.warn({ peer: socket.remoteAddress, code: err.code }, `guest TLS handshake refused: ${err.message}`);
  });
  await app.register(xmlRpcRoutes, { guests: ctx.guests });
  return app;
}
