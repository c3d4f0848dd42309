/**
 * `GET /api/v1/kerberos`: the realm the manager runs (`--kdc-listen`): the KDC's state, each directory
 * user's principal (or why there is none), each instance's principals; `{ enabled: false }` without a KDC.
 */
import Type, { type Static } from 'typebox';
import { IsoTime, List, Nullable, OneOf } from './common.js';

export const KdcStatus = Type.Object({
  state: OneOf(['starting', 'running', 'restarting', 'stopped', 'failed']),
  pid: Nullable(Type.Integer()),
  /** Times the manager started it again after it died. */
  restarts: Type.Integer(),
  /** When the current process became ready. */
  since: Nullable(IsoTime),
  lastExit: Nullable(Type.Object({ code: Nullable(Type.Integer()), signal: Nullable(Type.String()), at: IsoTime })),
  /** The KDC's last error line, when it logged one. */
  lastError: Nullable(Type.String()),
});

export const RealmUserView = Type.Object({
  uid: Type.String(),
  principal: Nullable(Type.String()),
  /** Why there is no principal: `no-password` (cannot log in at all) or `password-predates-realm`. */
  missing: Type.Optional(OneOf(['no-password', 'password-predates-realm'])),
});
export type RealmUserView = Static<typeof RealmUserView>;

export const RealmView = Type.Object({
  enabled: Type.Literal(true),
  realm: Type.String(),
  listen: Type.String(),
  kdc: KdcStatus,
  users: List(RealmUserView),
  instances: List(Type.Object({ name: Type.String(), principals: List(Type.String()) })),
  /** Principals of the realm that are neither a user's nor an instance's (the KDC's own). */
  other: List(Type.String()),
  /** Users who have a password but no principal yet: `storm user passwd` gives them one. */
  usersWithoutPrincipal: List(Type.String()),
});
export type RealmView = Static<typeof RealmView>;

export const KerberosAnswer = Type.Union([RealmView, Type.Object({ enabled: Type.Literal(false) })]);
export type KerberosAnswer = Static<typeof KerberosAnswer>;
