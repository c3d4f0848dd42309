/**
 * The `onRequest` hook of every protected `/api/v1` route: an API token (`Authorization: Bearer`,
 * for the CLI and scripts) or a console session cookie. A cookie alone is sent by the browser with
 * any request, so a cookie-authenticated change (anything but GET, HEAD, OPTIONS) must also carry
 * the session's CSRF token in `x-csrf-token`; a bearer token never comes from a browser by itself.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { MgrErr } from '../errors.js';
import type { ApiTokens } from './api-tokens.js';
import { readCookie, SESSION_COOKIE } from './cookies.js';
import type { Session, Sessions } from './sessions.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who made the request: the API token's name or the session's user; set by requireAuth. */
    principal?: string;
    /** The console session, when the request was authenticated by its cookie. */
    session?: Session;
    /** The cookie value of that session (logout removes it). */
    sessionId?: string;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function bearerToken(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return m?.[1];
}

/** Constant-time comparison of the header against the session's token. */
export function csrfMatches(sent: string | string[] | undefined, expected: string): boolean {
  if (typeof sent !== 'string') return false;
  const a = Buffer.from(sent);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function requireAuth(tokens: ApiTokens, sessions?: Sessions) {
  return async function checkAuth(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
    const token = bearerToken(request.headers.authorization);
    if (token || !sessions) {
      const principal = token ? await tokens.verify(token) : undefined;
      if (!principal) throw MgrErr.MGR_ERR_UNAUTHORIZED(token ? 'unknown API token' : 'send Authorization: Bearer <token>');
      request.principal = principal;
      return;
    }
    const id = readCookie(request.headers.cookie, SESSION_COOKIE);
    const session = id ? await sessions.find(id) : undefined;
    if (!session)
      throw MgrErr.MGR_ERR_UNAUTHORIZED(
        id ? 'the console session ended; log in again' : 'send Authorization: Bearer <token> or log in to the console',
      );
    if (!SAFE_METHODS.has(request.method) && !csrfMatches(request.headers['x-csrf-token'], session.csrfToken)) throw MgrErr.MGR_ERR_CSRF();
    request.principal = session.username;
    request.session = session;
    request.sessionId = id;
  };
}
