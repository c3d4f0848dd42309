/** `GET /api/v1/health`: unauthenticated liveness with the hypervisor in use and the schema version. */
import Type from 'typebox';
import type { FastifyPluginAsync } from 'fastify';
import { schemaVersion } from '../db/migrations.js';
import type { Database } from '../db/database.js';

export const HealthResponse = Type.Object({
  status: Type.Literal('ok'),
  version: Type.String(),
  schemaVersion: Type.Integer(),
  hypervisor: Type.Union([Type.String(), Type.Null()]),
});

export interface HealthOptions {
  readonly db: Database;
  readonly version: string;
  /** The libvirt URI of the local host, or null when this manager runs none. */
  readonly hypervisor: () => string | null;
}

export const healthRoutes: FastifyPluginAsync<HealthOptions> = async (app, opts) => {
  app.get('/health', { schema: { response: { 200: HealthResponse } } }, async () => ({
    status: 'ok' as const,
    version: opts.version,
    schemaVersion: await schemaVersion(opts.db),
    hypervisor: opts.hypervisor(),
  }));
};
