/**
 * The event bus: `GET /api/v1/events[?types=a,b]` (server-sent events, `text/event-stream`: each
 * event's `id`, its type as `event` and `{ ...data, at }` as `data`; resumes from `Last-Event-ID`),
 * and `GET /api/v1/events/recent[?limit=&type=]` for a page of history as JSON.
 */
import Type, { type Static } from 'typebox';
import { IsoTime, List } from './common.js';

/** Type prefixes to receive, comma-separated (`instance,pull`); all when absent. */
export const EventStreamQuery = Type.Object({ types: Type.Optional(Type.String({ maxLength: 500 })) }, { additionalProperties: false });

export const RecentQuery = Type.Object(
  { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 2000 })), type: Type.Optional(Type.String({ maxLength: 100 })) },
  { additionalProperties: false },
);

export const StormEvent = Type.Object({
  id: Type.Integer(),
  at: IsoTime,
  /** Dotted, e.g. `instance.launch`, `pull.progress`. */
  type: Type.String(),
  data: Type.Record(Type.String(), Type.Unknown()),
});
export type StormEvent = Static<typeof StormEvent>;

export const RecentEvents = Type.Object({ events: List(StormEvent) });
