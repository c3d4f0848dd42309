/** The `onRequest` hook of every protected `/api/v1` route: `Authorization: Bearer <token>` or 401. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { MgrErr } from '../errors.js';
import type { ApiTokens } from './api-tokens.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who made the request: the API token's name; set by requireAuth. */
    principal?: string;
  }
}

export function bearerToken(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return m?.[1];
}

export function requireAuth(tokens: ApiTokens) {
  return async function checkAuth(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
    const token = bearerToken(request.headers.authorization);
    const principal = token ? await tokens.verify(token) : undefined;
    if (!principal) throw MgrErr.MGR_ERR_UNAUTHORIZED(token ? 'unknown API token' : 'send Authorization: Bearer <token>');
    request.principal = principal;
  };
}
