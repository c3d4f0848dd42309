/** `GET /api/v1/whoami`: which credential the caller used; the CLI checks its token with it. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { WhoamiAnswer } from '../../protocol/index.js';

export const whoamiRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/whoami', { schema: { response: { 200: WhoamiAnswer } } }, async (request) => ({ principal: request.principal ?? '' }));
};
