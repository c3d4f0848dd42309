/**
 * The appliance network's data: `GET|POST /api/v1/dns/records`, `DELETE /api/v1/dns/records/:id` (204;
 * administrator records anywhere in the zone, appliances register theirs over XML-RPC),
 * `GET /api/v1/dhcp/leases`, `GET /api/v1/network` (settings and service counters).
 */
import Type, { type Static } from 'typebox';
import { IsoTime, List, Nullable, OneOf } from './common.js';

export const RecordView = Type.Object({
  id: Type.Integer(),
  /** The instance that registered it; null for an administrator's record. */
  instanceId: Nullable(Type.String()),
  /** The instances' own A and PTR records come from their rows; these are the others. */
  type: OneOf(['MX', 'SRV', 'TXT', 'CNAME']),
  name: Type.String(),
  value: Type.String(),
  ttl: Nullable(Type.Integer()),
  createdAt: IsoTime,
});
export type RecordView = Static<typeof RecordView>;

export const RecordList = Type.Object({ records: List(RecordView) });

export const RecordBody = Type.Object(
  {
    type: Type.String({ maxLength: 5 }),
    /** Relative to the zone (`@` is the zone itself) or absolute within it. */
    name: Type.String({ minLength: 1, maxLength: 253 }),
    value: Type.String({ minLength: 1, maxLength: 1024 }),
    ttl: Type.Optional(Type.Integer({ minimum: 0, maximum: 604_800 })),
  },
  { additionalProperties: false },
);

export const RecordParams = Type.Object({ id: Type.Integer({ minimum: 1 }) });

export const LeaseView = Type.Object({
  mac: Type.String(),
  ip: Type.String(),
  hostname: Nullable(Type.String()),
  expiresAt: IsoTime,
  active: Type.Boolean(),
  /** The instance with this MAC, if any. */
  instance: Nullable(Type.String()),
  instanceName: Nullable(Type.String()),
  updatedAt: IsoTime,
});

export const LeaseList = Type.Object({ leases: List(LeaseView) });

export const NetworkView = Type.Object({
  /** The instances' DNS domain. */
  domain: Type.String(),
  /** Null when the manager serves no appliance network (no `--network`). */
  network: Nullable(
    Type.Object({
      cidr: Type.String(),
      managerAddress: Type.String(),
      router: Nullable(Type.String()),
      pool: Nullable(Type.Object({ start: Type.String(), end: Type.String() })),
    }),
  ),
  /** Counters of each protocol server that runs (`dns`, `dhcp`, `ldap`), by name. */
  services: Type.Record(Type.String(), Type.Unknown()),
});
export type NetworkView = Static<typeof NetworkView>;
