/** `/api/v1/channels`: subscribe (pinning the publisher key), list, refresh, unsubscribe. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ChannelList, ChannelParams, ChannelView, SubscribeBody } from '../../protocol/index.js';
import { NoContent } from '../http/openapi.js';
import type { ChannelService } from '../channels/channel-service.js';

export const channelRoutes: FastifyPluginAsyncTypebox<{ channels: ChannelService }> = async (app, { channels }) => {
  app.post('/channels', { schema: { body: SubscribeBody, response: { 201: ChannelView } } }, async (request, reply) =>
    reply.status(201).send(await channels.subscribe(request.body)),
  );
  app.get('/channels', { schema: { response: { 200: ChannelList } } }, async () => ({ channels: await channels.list() }));
  app.get('/channels/:id', { schema: { params: ChannelParams, response: { 200: ChannelView } } }, async (request) =>
    channels.get(request.params.id),
  );
  app.post('/channels/:id/refresh', { schema: { params: ChannelParams, response: { 200: ChannelView } } }, async (request) =>
    channels.refresh(request.params.id),
  );
  app.delete('/channels/:id', { schema: { params: ChannelParams, response: { 204: NoContent } } }, async (request, reply) => {
    await channels.remove(request.params.id);
    return reply.status(204).send();
  });
};
