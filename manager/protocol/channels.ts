/**
 * Channels: `POST /api/v1/channels` (subscribe, pinning the publisher's key; 201),
 * `GET /api/v1/channels`, `GET /api/v1/channels/:id`, `POST /api/v1/channels/:id/refresh`,
 * `DELETE /api/v1/channels/:id` (204).
 */
import Type, { type Static } from 'typebox';
import { IsoTime, List, Nullable, OneOf } from './common.js';

export const ChannelView = Type.Object({
  /** `ch-` and ten hex digits; `ch-local` is the manager's own channel of packages. */
  id: Type.String(),
  url: Type.String(),
  title: Nullable(Type.String()),
  /** A publisher key is pinned: the feed's signature is checked. */
  signed: Type.Boolean(),
  status: OneOf(['new', 'ok', 'failed']),
  lastRefresh: Nullable(IsoTime),
  lastError: Nullable(Type.String()),
  createdAt: IsoTime,
});
export type ChannelView = Static<typeof ChannelView>;

export const ChannelList = Type.Object({ channels: List(ChannelView) });
export type ChannelList = Static<typeof ChannelList>;

export const SubscribeBody = Type.Object(
  {
    url: Type.String({ minLength: 1, maxLength: 2048 }),
    /** The publisher's Ed25519 public key (PEM); `null` or absent only on a manager started with `--allow-unsigned-channels`. */
    publicKey: Type.Optional(Nullable(Type.String({ maxLength: 4096 }))),
  },
  { additionalProperties: false },
);
export type SubscribeBody = Static<typeof SubscribeBody>;

export const ChannelParams = Type.Object({ id: Type.String({ pattern: '^ch-([0-9a-f]{10}|local)$' }) });
