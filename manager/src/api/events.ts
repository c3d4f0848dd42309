/**
 * `GET /api/v1/events`: server-sent events of the bus (resumes from `Last-Event-ID`; `?types=a,b`
 * filters by type prefix), and `GET /api/v1/events/recent` for a page of history as JSON.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { EventStreamQuery, RecentEvents, RecentQuery } from '../../protocol/index.js';
import type { EventBus, StormEvent } from '../events/bus.js';

export interface EventRoutesOptions {
  readonly bus: EventBus;
  /** Comment lines keep proxies from closing an idle stream. */
  readonly heartbeatMs?: number;
}

const matches = (types: string[], e: StormEvent) => types.length === 0 || types.some((t) => e.type === t || e.type.startsWith(`${t}.`));

export const eventRoutes: FastifyPluginAsyncTypebox<EventRoutesOptions> = async (app, opts) => {
  const open = new Set<() => void>();
  // Streams never end by themselves: end them so the server can close.
  app.addHook('preClose', async () => {
    for (const end of open) end();
  });
  app.get(
    '/events',
    // The answer is a stream (text/event-stream), written by hand: no response schema.
    { schema: { querystring: EventStreamQuery, produces: ['text/event-stream'] } },
    async (request, reply) => {
      const types = (request.query.types ?? '').split(',').filter(Boolean);
      const last = Number(request.headers['last-event-id']);
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      res.write('retry: 2000\n\n');
      const send = (e: StormEvent) => {
        if (matches(types, e)) res.write(`id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify({ ...e.data, at: e.at })}\n\n`);
      };
      const off = opts.bus.subscribe(send, Number.isFinite(last) ? last : undefined);
      const beat = setInterval(() => res.write(': keep-alive\n\n'), opts.heartbeatMs ?? 15_000);
      const stop = () => {
        clearInterval(beat);
        off();
        open.delete(end);
      };
      const end = () => {
        stop();
        res.end();
      };
      open.add(end);
      request.raw.on('close', stop);
      res.on('error', stop);
    },
  );

  app.get('/events/recent', { schema: { querystring: RecentQuery, response: { 200: RecentEvents } } }, async (request) => ({
    events: opts.bus.recent(request.query.limit ?? 100, request.query.type),
  }));
};
