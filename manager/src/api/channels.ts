/** `/api/v1/channels`: subscribe (pinning the publisher key), list, refresh, unsubscribe. */
import type { FastifyPluginAsync } from 'fastify';
import Type from 'typebox';
import type { ChannelService } from '../channels/channel-service.js';

export const ChannelView = Type.Object({
  id: Type.String(),
  url: Type.String(),
  title: Type.Union([Type.String(), Type.Null()]),
  signed: Type.Boolean(),
  status: Type.Union([Type.Literal('new'), Type.Literal('ok'), Type.Literal('failed')]),
  lastRefresh: Type.Union([Type.String(), Type.Null()]),
  lastError: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(),
});

const SubscribeBody = Type.Object(
  {
    url: Type.String({ minLength: 1, maxLength: 2048 }),
    publicKey: Type.Optional(Type.Union([Type.String({ maxLength: 4096 }), Type.Null()])),
  },
  { additionalProperties: false },
);
const IdParams = Type.Object({ id: Type.String({ pattern: '^ch-([0-9a-f]{10}|local)$' }) });

export const channelRoutes: FastifyPluginAsync<{ channels: ChannelService }> = async (app, { channels }) => {
  app.post('/channels', { schema: { body: SubscribeBody, response: { 201: ChannelView } } }, async (request, reply) => {
    const body = request.body as { url: string; publicKey?: string | null };
    return reply.status(201).send(await channels.subscribe(body));
  });
  app.get('/channels', { schema: { response: { 200: Type.Object({ channels: Type.Array(ChannelView) }) } } }, async () => ({ channels: await channels.list() }));
  app.get('/channels/:id', { schema: { params: IdParams, response: { 200: ChannelView } } }, async (request) => channels.get((request.params as { id: string }).id));
  app.post('/channels/:id/refresh', { schema: { params: IdParams, response: { 200: ChannelView } } }, async (request) => channels.refresh((request.params as { id: string }).id));
  app.delete('/channels/:id', { schema: { params: IdParams } }, async (request, reply) => {
    await channels.remove((request.params as { id: string }).id);
    return reply.status(204).send();
  });
};
