/**
 * The manager itself: `GET /api/v1/health` (no credential: liveness, the hypervisor in use and the
 * database's schema version), `GET /api/v1/whoami` (which credential the caller used),
 * `GET /api/v1/openapi.json` (this API as an OpenAPI 3.1 document, generated from these schemas; docs/api.md),
 * `GET /api/v1/pki/ca` and `GET /api/v1/pki/crl` (no credential: the CA certificate and the CRL, PEM).
 */
import Type, { type Static } from 'typebox';
import { Nullable } from './common.js';

export const HealthAnswer = Type.Object({
  status: Type.Literal('ok'),
  version: Type.String(),
  schemaVersion: Type.Integer(),
  /** The local host's libvirt URI, or null when this manager runs none. */
  hypervisor: Nullable(Type.String()),
});
export type HealthAnswer = Static<typeof HealthAnswer>;

export const WhoamiAnswer = Type.Object({ principal: Type.String() });
export type WhoamiAnswer = Static<typeof WhoamiAnswer>;
