/**
 * The console's session: `POST /api/v1/session` (log in; 201 and the cookie; limited per address and
 * user), `GET /api/v1/session` (who am I, with the CSRF token every change must send as `x-csrf-token`),
 * `DELETE /api/v1/session` (log out; 204). The login body is JSON only: a cross-site form cannot send
 * it without a CORS preflight, which the manager never grants.
 */
import Type, { type Static } from 'typebox';
import { IsoTime, Nullable, OneOf } from './common.js';

/** Passwords longer than this are refused before hashing (scrypt's cost grows with the input). */
export const MAX_PASSWORD_LENGTH = 1024;

export const LoginBody = Type.Object(
  { username: Type.String({ minLength: 1, maxLength: 64 }), password: Type.String({ minLength: 1, maxLength: MAX_PASSWORD_LENGTH }) },
  { additionalProperties: false },
);

export const SessionView = Type.Object({
  username: Type.String(),
  /** `session`: the console cookie; `token`: an API token (no CSRF token needed or given). */
  via: OneOf(['session', 'token']),
  csrfToken: Nullable(Type.String()),
  expiresAt: Nullable(IsoTime),
});
export type SessionView = Static<typeof SessionView>;
