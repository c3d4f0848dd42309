/**
 * The appliance network's uplink: `GET /api/v1/network/uplink` (mode, state, forwards),
 * `GET /api/v1/network/forwards`, `POST /api/v1/network/forwards` (201; refused with
 * `MGR_ERR_UPLINK_OFF` under `--uplink none`) and `DELETE /api/v1/network/forwards/:protocol/:port` (204).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ForwardBody, ForwardList, ForwardParams, ForwardView, UplinkView } from '../../protocol/index.js';
import { NoContent } from '../http/openapi.js';
import type { Uplink } from '../network/uplink.js';

export const uplinkRoutes: FastifyPluginAsyncTypebox<{ uplink: Uplink }> = async (app, { uplink }) => {
  app.get('/network/uplink', { schema: { response: { 200: UplinkView } } }, async () => uplink.status());
  app.get('/network/forwards', { schema: { response: { 200: ForwardList } } }, async () => ({ forwards: await uplink.list() }));
  app.post('/network/forwards', { schema: { body: ForwardBody, response: { 201: ForwardView } } }, async (request, reply) =>
    reply.status(201).send(await uplink.add(request.body)),
  );
  app.delete(
    '/network/forwards/:protocol/:port',
    { schema: { params: ForwardParams, response: { 204: NoContent } } },
    async (request, reply) => {
      await uplink.remove(request.params.protocol, request.params.port);
      return reply.status(204).send();
    },
  );
};
