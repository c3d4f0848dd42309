/**
 * `/api/v1/session`: the console's login (`POST`, limited per address and user), who am I with the
 * CSRF token (`GET`), logout (`DELETE`, CSRF-checked like every change). The login body is JSON
 * only: a cross-site form cannot send it without a CORS preflight, which the manager never grants.
 */
import type { FastifyPluginAsync } from 'fastify';
import Type from 'typebox';
import type { ApiTokens } from '../auth/api-tokens.js';
import { clearedSessionCookie, sessionCookie } from '../auth/cookies.js';
import { MAX_PASSWORD_LENGTH } from '../auth/passwords.js';
import { requireAuth } from '../auth/require-auth.js';
import type { SessionAuth } from '../auth/session-auth.js';
import { MgrErr } from '../errors.js';

const LoginBody = Type.Object(
  { username: Type.String({ minLength: 1, maxLength: 64 }), password: Type.String({ minLength: 1, maxLength: MAX_PASSWORD_LENGTH }) },
  { additionalProperties: false },
);

export const SessionView = Type.Object({
  username: Type.String(),
  /** `session`: the console cookie; `token`: an API token (no CSRF token needed or given). */
  via: Type.Union([Type.Literal('session'), Type.Literal('token')]),
  csrfToken: Type.Union([Type.String(), Type.Null()]),
  expiresAt: Type.Union([Type.String(), Type.Null()]),
});

export interface SessionRouteOptions {
  readonly auth: SessionAuth;
  readonly tokens: ApiTokens;
}

export const sessionRoutes: FastifyPluginAsync<SessionRouteOptions> = async (app, { auth, tokens }) => {
  const { users, sessions, limiter } = auth;

  app.post('/session', { schema: { body: LoginBody, response: { 201: SessionView } } }, async (request, reply) => {
    const { username, password } = request.body as { username: string; password: string };
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
    return reply.status(201).send({ username, via: 'session', csrfToken: session.csrfToken, expiresAt: session.expiresAt });
  });

  await app.register(async (authed) => {
    authed.addHook('onRequest', requireAuth(tokens, sessions));
    authed.get('/session', { schema: { response: { 200: SessionView } } }, async (request) =>
      request.session
        ? { username: request.session.username, via: 'session' as const, csrfToken: request.session.csrfToken, expiresAt: request.session.expiresAt }
        : { username: request.principal ?? '', via: 'token' as const, csrfToken: null, expiresAt: null },
    );
    authed.delete('/session', async (request, reply) => {
      if (request.sessionId) await sessions.remove(request.sessionId);
      return reply.header('set-cookie', clearedSessionCookie()).status(204).send();
    });
  });
};
