/** `/api/v1/appliances`: the catalog (every version of every channel, cached or not) and pulls. */
import type { FastifyPluginAsync } from 'fastify';
import Type from 'typebox';
import type { Catalog, CatalogEntry } from '../catalog/catalog.js';
import type { PullService } from '../images/pull-service.js';

const NameVersion = Type.Object({
  name: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' }),
  version: Type.String({ pattern: '^[0-9A-Za-z.+-]{1,64}$' }),
});

/** The API shape of a catalog entry (the descriptor's launch-relevant parts, files with cache state). */
export function applianceView(e: CatalogEntry) {
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

export const applianceRoutes: FastifyPluginAsync<{ catalog: Catalog; pulls: PullService }> = async (app, { catalog, pulls }) => {
  app.get(
    '/appliances',
    { schema: { querystring: Type.Object({ name: Type.Optional(Type.String({ maxLength: 63 })) }, { additionalProperties: false }) } },
    async (request) => ({ appliances: (await catalog.list(request.query as { name?: string })).map(applianceView) }),
  );
  app.get('/appliances/:name/:version', { schema: { params: NameVersion } }, async (request) => {
    const p = request.params as { name: string; version: string };
    return applianceView(await catalog.resolve(p.name, p.version));
  });
  app.post(
    '/appliances/:name/:version/pull',
    { schema: { params: NameVersion, querystring: Type.Object({ channel: Type.Optional(Type.String({ maxLength: 20 })) }, { additionalProperties: false }) } },
    async (request) => {
      const p = request.params as { name: string; version: string };
      const entry = await catalog.resolve(p.name, p.version, (request.query as { channel?: string }).channel);
      return pulls.pull(entry);
    },
  );
};
