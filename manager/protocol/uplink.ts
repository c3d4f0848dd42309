/**
 * Wire types of the appliance network's uplink: `GET /api/v1/network/uplink` (its mode and state, with
 * the forwards), `GET|POST /api/v1/network/forwards`, `DELETE /api/v1/network/forwards/:protocol/:port`
 * (204).
 *
 * @example
 * const { forwards } = await api.get<ForwardList>('/network/forwards');
 */
import Type, { type Static } from 'typebox';
import { IsoTime, List, Nullable, OneOf } from './common.js';

export const ForwardProtocol = OneOf(['tcp', 'udp']);
export type ForwardProtocol = Static<typeof ForwardProtocol>;

const Port = Type.Integer({ minimum: 1, maximum: 65535 });

export const ForwardView = Type.Object({
  protocol: ForwardProtocol,
  /** The host's port the outside connects to. */
  port: Port,
  /** The instance's name and id; the forward follows the instance, not an address. */
  instance: Type.String(),
  instanceId: Type.String(),
  /** The instance's reserved address now; null when it has none (the forward then leads nowhere). */
  address: Nullable(Type.String()),
  targetPort: Port,
  /** True when its rules are loaded: the uplink is nat and up, and the instance has an address. */
  active: Type.Boolean(),
  createdAt: IsoTime,
});
export type ForwardView = Static<typeof ForwardView>;

export const ForwardList = Type.Object({ forwards: List(ForwardView) });
export type ForwardList = Static<typeof ForwardList>;

export const ForwardBody = Type.Object(
  {
    protocol: ForwardProtocol,
    port: Port,
    /** The instance by name or id. */
    instance: Type.String({ minLength: 1, maxLength: 64 }),
    targetPort: Port,
  },
  { additionalProperties: false },
);
export type ForwardBody = Static<typeof ForwardBody>;

export const ForwardParams = Type.Object({ protocol: ForwardProtocol, port: Port });
export type ForwardParams = Static<typeof ForwardParams>;

export const UplinkView = Type.Object({
  /** `none` (the default: no way out) or `nat` (masquerade through the host's route). */
  mode: OneOf(['none', 'nat']),
  /** `off` with none; `active` once the rules are loaded; `failed` with `error` saying why. */
  state: OneOf(['off', 'active', 'failed']),
  error: Nullable(Type.String()),
  /** The bridge and network it opens; null with none. */
  bridge: Nullable(Type.String()),
  network: Nullable(Type.String()),
  /** The nftables table the manager owns (`inet storm`); null with none. */
  table: Nullable(Type.String()),
  forwards: List(ForwardView),
});
export type UplinkView = Static<typeof UplinkView>;
