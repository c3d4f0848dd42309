/** `GET /api/v1/health`: unauthenticated liveness with the hypervisor in use and the schema version. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { HealthAnswer } from '../../protocol/index.js';
import { schemaVersion } from '../db/migrations.js';
import type { Database } from '../db/database.js';

export interface HealthOptions {
  readonly db: Database;
  readonly version: string;
  /** The libvirt URI of the local host, or null when this manager runs none. */
  readonly hypervisor: () => string | null;
}

export const healthRoutes: FastifyPluginAsyncTypebox<HealthOptions> = async (app, opts) => {
  app.get('/health', { schema: { response: { 200: HealthAnswer } } }, async () => ({
    status: 'ok' as const,
    version: opts.version,
    schemaVersion: await schemaVersion(opts.db),
    hypervisor: opts.hypervisor(),
  }));
};
