/**
 * The LDAP directory: `GET|POST /api/v1/directory/users`, `GET|PATCH|DELETE /api/v1/directory/users/:uid`,
 * `GET|POST /api/v1/directory/groups`, `GET|PATCH|DELETE /api/v1/directory/groups/:name`,
 * `PUT|DELETE /api/v1/directory/groups/:name/members/:uid`, `GET /api/v1/directory/services` (the
 * appliances' service accounts, issued at launch). Creations answer 201, deletions 204. Answers carry
 * each entry's DN, never a password or a hash. The patterns and limits are the directory's own: the
 * store checks them again for callers that bypass HTTP.
 */
import Type, { type Static } from 'typebox';
import { IsoTime, List, Nullable } from './common.js';

/** POSIX-portable login and group names (Debian's NAME_REGEX, lower case, at most 32). */
export const NAME_PATTERN = '^[a-z][a-z0-9._-]{0,31}$';
/** Service accounts are named after instances: a DNS label. */
export const SERVICE_NAME_PATTERN = '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$';
/** A practical ASCII address: no spaces, quotes, brackets or separators a filter or header would trip on. */
export const MAIL_PATTERN = "^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*$";
/** Absolute paths without control characters (home directories, shells). */
export const PATH_PATTERN = '^/[^\\u0000-\\u001f\\u007f]{0,254}$';
/** Display text (cn, sn, givenName, descriptions): no control characters. */
export const TEXT_PATTERN = '^[^\\u0000-\\u001f\\u007f]+$';
export const TEXT_MAX = 256;
export const MAIL_MAX = 254;
export const PASSWORD_MIN = 8;
/** Bounds the work one bind can ask of the hash function. */
export const PASSWORD_MAX = 1024;
/** uidNumber and gidNumber are 31-bit; below 1000 belongs to the guests' own system accounts. */
export const ID_MIN = 1000;
export const ID_MAX = 2_147_483_647;

const Name = Type.String({ pattern: NAME_PATTERN, maxLength: 32 });
const Text = Type.String({ minLength: 1, maxLength: TEXT_MAX, pattern: TEXT_PATTERN });
const Mail = Type.String({ maxLength: MAIL_MAX, pattern: MAIL_PATTERN });
const Path = Type.String({ maxLength: 255, pattern: PATH_PATTERN });
const Id = Type.Integer({ minimum: ID_MIN, maximum: ID_MAX });
const PrimaryGid = Type.Integer({ minimum: 0, maximum: ID_MAX });
const Password = Type.String({ minLength: PASSWORD_MIN, maxLength: PASSWORD_MAX });

export const NewUserBody = Type.Object(
  {
    uid: Name,
    /** Default: "givenName sn" when both are given, else the uid. */
    cn: Type.Optional(Text),
    /** Default: the uid. */
    sn: Type.Optional(Text),
    givenName: Type.Optional(Text),
    mail: Type.Optional(Mail),
    /** Default: the next free number. */
    uidNumber: Type.Optional(Id),
    /** Default: 100, the guests' `users` group. */
    gidNumber: Type.Optional(PrimaryGid),
    /** Default: /home/<uid>. */
    homeDirectory: Type.Optional(Path),
    /** Default: /bin/sh. */
    loginShell: Type.Optional(Path),
    /** Without one the user cannot bind until a password is set. */
    password: Type.Optional(Password),
    /** Groups to join; each must exist. */
    groups: Type.Optional(Type.Array(Name, { maxItems: 256, uniqueItems: true })),
  },
  { additionalProperties: false },
);

/** A field left out keeps its value; `null` clears an optional one (a `null` password disables binds). */
export const UserPatchBody = Type.Object(
  {
    cn: Type.Optional(Text),
    sn: Type.Optional(Text),
    givenName: Type.Optional(Nullable(Text)),
    mail: Type.Optional(Nullable(Mail)),
    gidNumber: Type.Optional(PrimaryGid),
    homeDirectory: Type.Optional(Path),
    loginShell: Type.Optional(Path),
    password: Type.Optional(Nullable(Password)),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const NewGroupBody = Type.Object(
  {
    name: Name,
    gidNumber: Type.Optional(Id),
    description: Type.Optional(Text),
    members: Type.Optional(Type.Array(Name, { maxItems: 4096, uniqueItems: true })),
  },
  { additionalProperties: false },
);

export const GroupPatchBody = Type.Object(
  { gidNumber: Type.Optional(Id), description: Type.Optional(Nullable(Text)) },
  { additionalProperties: false, minProperties: 1 },
);

export const UidParams = Type.Object({ uid: Name }, { additionalProperties: false });
export const GroupParams = Type.Object({ name: Name }, { additionalProperties: false });
export const MemberParams = Type.Object({ name: Name, uid: Name }, { additionalProperties: false });

export const UserView = Type.Object({
  dn: Type.String(),
  uid: Type.String(),
  uidNumber: Type.Integer(),
  gidNumber: Type.Integer(),
  cn: Type.String(),
  sn: Type.String(),
  givenName: Nullable(Type.String()),
  mail: Nullable(Type.String()),
  homeDirectory: Type.String(),
  loginShell: Type.String(),
  /** False: the user exists but cannot bind (no password set). */
  hasPassword: Type.Boolean(),
  /** The groups the user is a member of, sorted by name. */
  memberOf: List(Type.Object({ name: Type.String(), dn: Type.String() })),
  createdAt: IsoTime,
  updatedAt: IsoTime,
});
export type UserView = Static<typeof UserView>;

export const GroupView = Type.Object({
  dn: Type.String(),
  name: Type.String(),
  gidNumber: Type.Integer(),
  description: Nullable(Type.String()),
  /** uids of the members, sorted. */
  members: List(Type.String()),
  createdAt: IsoTime,
  updatedAt: IsoTime,
});
export type GroupView = Static<typeof GroupView>;

export const ServiceAccountView = Type.Object({
  dn: Type.String(),
  name: Type.String(),
  /** The instance id it was issued for; null for an account made by hand. */
  owner: Nullable(Type.String()),
  description: Nullable(Type.String()),
  createdAt: IsoTime,
});
export type ServiceAccountView = Static<typeof ServiceAccountView>;

export const UserList = Type.Object({ users: List(UserView) });
export const GroupList = Type.Object({ groups: List(GroupView) });
export const ServiceAccountList = Type.Object({ services: List(ServiceAccountView) });
