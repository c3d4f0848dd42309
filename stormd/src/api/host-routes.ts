/** `GET /v1/host`: what the host has and holds (see `HostInfo`). */
import type { FastifyPluginAsync } from 'fastify';
import type { HostInfo } from '../../protocol.js';

export interface HostRoutesOptions {
  readonly hostInfo: () => Promise<HostInfo>;
}

export const hostRoutes: FastifyPluginAsync<HostRoutesOptions> = async (app, opts) => {
  app.get('/host', async (): Promise<HostInfo> => opts.hostInfo());
};
