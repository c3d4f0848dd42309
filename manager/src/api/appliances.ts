/** `/api/v1/appliances`: the catalog (every version of every channel, cached or not) and pulls. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ApplianceList, ApplianceListQuery, ApplianceParams, ApplianceView, PullQuery, PullResult } from '../../protocol/index.js';
import type { Catalog, CatalogEntry } from '../catalog/catalog.js';
import type { PullService } from '../images/pull-service.js';

/** The API shape of a catalog entry (the descriptor's launch-relevant parts, files with cache state). */
export function applianceView(e: CatalogEntry): ApplianceView {
  return {
    channelId: e.channelId,
    name: e.name,
    version: e.version,
    title: e.title,
    description: e.description,
    upgradesFrom: e.upgradesFrom,
    memoryMiB: e.memoryMiB,
    vcpus: e.vcpus,
    parameters: e.descriptor.parameters,
    config: e.descriptor.config,
    records: e.descriptor.records,
    layers: e.files.map((f) => ({ role: f.role, kind: f.kind, sha256: f.sha256, size: f.size, cached: f.cached })),
    size: e.size,
    cached: e.cached,
  };
}

export const applianceRoutes: FastifyPluginAsyncTypebox<{ catalog: Catalog; pulls: PullService }> = async (app, { catalog, pulls }) => {
  app.get('/appliances', { schema: { querystring: ApplianceListQuery, response: { 200: ApplianceList } } }, async (request) => ({
    appliances: (await catalog.list(request.query)).map(applianceView),
  }));
  app.get('/appliances/:name/:version', { schema: { params: ApplianceParams, response: { 200: ApplianceView } } }, async (request) =>
    applianceView(await catalog.resolve(request.params.name, request.params.version)),
  );
  app.post(
    '/appliances/:name/:version/pull',
    { schema: { params: ApplianceParams, querystring: PullQuery, response: { 200: PullResult } } },
    async (request) => pulls.pull(await catalog.resolve(request.params.name, request.params.version, request.query.channel)),
  );
};
