/**
 * `/api/v1/directory`: users and groups of the LDAP directory (list, create, show, update incl.
 * password, delete; group membership), and the appliances' service accounts (list only: they are
 * issued at launch). Answers carry each entry's DN; never a password or a hash.
 *
 * @example
 * await secured.register(directoryRoutes, { directory: ctx.directory, baseDn: 'dc=storm,dc=internal' });
 * // POST /api/v1/directory/users { "uid": "alice", "sn": "Liddell", "password": "…" } → 201 { uid, dn, … }
 */
import type { FastifyPluginAsync } from 'fastify';
import Type, { type Static } from 'typebox';
import { groupDn, serviceDn, userDn } from './layout.js';
import type { DirectoryStore } from './store.js';
import type { DirectoryGroup, DirectoryUser, ServiceAccount } from './types.js';
import {
  ID_MAX, ID_MIN, MAIL_MAX, MAIL_PATTERN, NAME_PATTERN, PASSWORD_MAX, PASSWORD_MIN, PATH_PATTERN, TEXT_MAX, TEXT_PATTERN,
} from './validate.js';

const Name = Type.String({ pattern: NAME_PATTERN, maxLength: 32 });
const Text = Type.String({ minLength: 1, maxLength: TEXT_MAX, pattern: TEXT_PATTERN });
const Mail = Type.String({ maxLength: MAIL_MAX, pattern: MAIL_PATTERN });
const Path = Type.String({ maxLength: 255, pattern: PATH_PATTERN });
const Id = Type.Integer({ minimum: ID_MIN, maximum: ID_MAX });
const PrimaryGid = Type.Integer({ minimum: 0, maximum: ID_MAX });
const Password = Type.String({ minLength: PASSWORD_MIN, maxLength: PASSWORD_MAX });

const NewUserBody = Type.Object(
  {
    uid: Name,
    cn: Type.Optional(Text),
    sn: Type.Optional(Text),
    givenName: Type.Optional(Text),
    mail: Type.Optional(Mail),
    uidNumber: Type.Optional(Id),
    gidNumber: Type.Optional(PrimaryGid),
    homeDirectory: Type.Optional(Path),
    loginShell: Type.Optional(Path),
    password: Type.Optional(Password),
    groups: Type.Optional(Type.Array(Name, { maxItems: 256, uniqueItems: true })),
  },
  { additionalProperties: false },
);
const UserPatchBody = Type.Object(
  {
    cn: Type.Optional(Text),
    sn: Type.Optional(Text),
    givenName: Type.Optional(Type.Union([Text, Type.Null()])),
    mail: Type.Optional(Type.Union([Mail, Type.Null()])),
    gidNumber: Type.Optional(PrimaryGid),
    homeDirectory: Type.Optional(Path),
    loginShell: Type.Optional(Path),
    password: Type.Optional(Type.Union([Password, Type.Null()])),
  },
  { additionalProperties: false, minProperties: 1 },
);
const NewGroupBody = Type.Object(
  {
    name: Name,
    gidNumber: Type.Optional(Id),
    description: Type.Optional(Text),
    members: Type.Optional(Type.Array(Name, { maxItems: 4096, uniqueItems: true })),
  },
  { additionalProperties: false },
);
const GroupPatchBody = Type.Object({ gidNumber: Type.Optional(Id), description: Type.Optional(Type.Union([Text, Type.Null()])) }, { additionalProperties: false, minProperties: 1 });
const UidParams = Type.Object({ uid: Name }, { additionalProperties: false });
const GroupParams = Type.Object({ name: Name }, { additionalProperties: false });
const MemberParams = Type.Object({ name: Name, uid: Name }, { additionalProperties: false });

export interface DirectoryRouteOptions {
  readonly directory: DirectoryStore;
  /** The LDAP base DN the views' `dn` fields are under (the LDAP server's `baseDn`). */
  readonly baseDn: string;
}

export const directoryRoutes: FastifyPluginAsync<DirectoryRouteOptions> = async (app, { directory, baseDn }) => {
  const user = (u: DirectoryUser) => ({ dn: userDn(baseDn, u.uid), ...u, memberOf: u.memberOf.map((g) => ({ name: g, dn: groupDn(baseDn, g) })) });
  const group = (g: DirectoryGroup) => ({ dn: groupDn(baseDn, g.name), ...g });
  const service = (s: ServiceAccount) => ({ dn: serviceDn(baseDn, s.name), ...s });

  app.get('/directory/users', async () => ({ users: (await directory.listUsers()).map(user) }));
  app.post('/directory/users', { schema: { body: NewUserBody } }, async (request, reply) =>
    reply.status(201).send(user(await directory.createUser(request.body as Static<typeof NewUserBody>))),
  );
  app.get('/directory/users/:uid', { schema: { params: UidParams } }, async (request) => user(await directory.getUser((request.params as Static<typeof UidParams>).uid)));
  app.patch('/directory/users/:uid', { schema: { params: UidParams, body: UserPatchBody } }, async (request) =>
    user(await directory.updateUser((request.params as Static<typeof UidParams>).uid, request.body as Static<typeof UserPatchBody>)),
  );
  app.delete('/directory/users/:uid', { schema: { params: UidParams } }, async (request, reply) => {
    await directory.deleteUser((request.params as Static<typeof UidParams>).uid);
    return reply.status(204).send();
  });

  app.get('/directory/groups', async () => ({ groups: (await directory.listGroups()).map(group) }));
  app.post('/directory/groups', { schema: { body: NewGroupBody } }, async (request, reply) =>
    reply.status(201).send(group(await directory.createGroup(request.body as Static<typeof NewGroupBody>))),
  );
  app.get('/directory/groups/:name', { schema: { params: GroupParams } }, async (request) => group(await directory.getGroup((request.params as Static<typeof GroupParams>).name)));
  app.patch('/directory/groups/:name', { schema: { params: GroupParams, body: GroupPatchBody } }, async (request) =>
    group(await directory.updateGroup((request.params as Static<typeof GroupParams>).name, request.body as Static<typeof GroupPatchBody>)),
  );
  app.delete('/directory/groups/:name', { schema: { params: GroupParams } }, async (request, reply) => {
    await directory.deleteGroup((request.params as Static<typeof GroupParams>).name);
    return reply.status(204).send();
  });
  app.put('/directory/groups/:name/members/:uid', { schema: { params: MemberParams } }, async (request) => {
    const { name, uid } = request.params as Static<typeof MemberParams>;
    return group(await directory.addMember(name, uid));
  });
  app.delete('/directory/groups/:name/members/:uid', { schema: { params: MemberParams } }, async (request) => {
    const { name, uid } = request.params as Static<typeof MemberParams>;
    return group(await directory.removeMember(name, uid));
  });

  app.get('/directory/services', async () => ({ services: (await directory.listServiceAccounts()).map(service) }));
};
