/** `GET /api/v1/whoami`: which credential the caller used; the CLI checks its token with it. */
import Type from 'typebox';
import type { FastifyPluginAsync } from 'fastify';

export const WhoamiResponse = Type.Object({ principal: Type.String() });

export const whoamiRoutes: FastifyPluginAsync = async (app) => {
  app.get('/whoami', { schema: { response: { 200: WhoamiResponse } } }, async (request) => ({ principal: request.principal ?? '' }));
};
