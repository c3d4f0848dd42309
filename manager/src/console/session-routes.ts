/**
 * `/api/v1/session`: the console's login (`POST`, limited per address and user), who am I with the
 * CSRF token (`GET`), logout (`DELETE`, CSRF-checked like every change). The login body is JSON
 * only: a cross-site form cannot send it without a CORS preflight, which the manager never grants.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { LoginBody, SessionView } from '../../protocol/index.js';
import type { ApiTokens } from '../auth/api-tokens.js';
import { clearedSessionCookie, sessionCookie } from '../auth/cookies.js';
import { requireAuth } from '../auth/require-auth.js';
import type { SessionAuth } from '../auth/session-auth.js';
import { MgrErr } from '../errors.js';
import { documentAuth, NoContent } from '../http/openapi.js';

export interface SessionRouteOptions {
  readonly auth: SessionAuth;
  readonly tokens: ApiTokens;
}

export const sessionRoutes: FastifyPluginAsyncTypebox<SessionRouteOptions> = async (app, { auth, tokens }) => {
  const { users, sessions, limiter } = auth;

  app.post('/session', { schema: { body: LoginBody, response: { 201: SessionView } } }, async (request, reply) => {
    const { username, password } = request.body;
    const wait = limiter.retryAfter(request.ip, username);
    if (wait > 0) {
      reply.header('retry-after', String(wait));
      throw MgrErr.MGR_ERR_TOO_MANY_ATTEMPTS(`retry in ${wait} s`);
    }
    if (!(await users.verify(username, password))) {
      limiter.failed(request.ip, username);
      request.log.warn({ username, ip: request.ip }, 'console login refused');
      throw MgrErr.MGR_ERR_LOGIN_FAILED();
    }
    limiter.succeeded(request.ip, username);
    const { id, session } = await sessions.create(username);
    reply.header('set-cookie', sessionCookie(id, sessions.lifetimeMs / 1000));
    return reply.status(201).send({ username, via: 'session' as const, csrfToken: session.csrfToken, expiresAt: session.expiresAt });
  });

  await app.register(async (authed) => {
    authed.addHook('onRequest', requireAuth(tokens, sessions));
    authed.addHook('onRoute', documentAuth('admin'));
    authed.get('/session', { schema: { response: { 200: SessionView } } }, async (request) =>
      request.session
        ? {
            username: request.session.username,
            via: 'session' as const,
            csrfToken: request.session.csrfToken,
            expiresAt: request.session.expiresAt,
          }
        : { username: request.principal ?? '', via: 'token' as const, csrfToken: null, expiresAt: null },
    );
    authed.delete('/session', { schema: { response: { 204: NoContent } } }, async (request, reply) => {
      if (request.sessionId) await sessions.remove(request.sessionId);
      return reply.header('set-cookie', clearedSessionCookie()).status(204).send();
    });
  });
};
