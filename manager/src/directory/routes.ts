/**
 * `/api/v1/directory`: users and groups of the LDAP directory (list, create, show, update incl.
 * password, delete; group membership), and the appliances' service accounts (list only: they are
 * issued at launch). Answers carry each entry's DN; never a password or a hash.
 *
 * @example
 * await secured.register(directoryRoutes, { directory: ctx.directory, baseDn: 'dc=storm,dc=internal' });
 * // POST /api/v1/directory/users { "uid": "alice", "sn": "Liddell", "password": "…" } → 201 { uid, dn, … }
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  GroupList,
  GroupParams,
  GroupPatchBody,
  GroupView,
  MemberParams,
  NewGroupBody,
  NewUserBody,
  ServiceAccountList,
  UidParams,
  UserList,
  UserPatchBody,
  UserView,
  type ServiceAccountView,
} from '../../protocol/index.js';
import { NoContent } from '../http/openapi.js';
import type { Agree, KeysWithin } from '../http/wire-check.js';
import { groupDn, serviceDn, userDn } from './layout.js';
import type { DirectoryStore } from './store.js';
import type { DirectoryGroup, DirectoryUser, ServiceAccount } from './types.js';

// The answers spread the store's records, and serializing drops what the schema lacks: a field the store gains must be on the wire too.
export type DirectoryAgrees = [
  Agree<KeysWithin<DirectoryUser, UserView>>,
  Agree<KeysWithin<DirectoryGroup, GroupView>>,
  Agree<KeysWithin<ServiceAccount, ServiceAccountView>>,
];

export interface DirectoryRouteOptions {
  readonly directory: DirectoryStore;
  /** The LDAP base DN the views' `dn` fields are under (the LDAP server's `baseDn`). */
  readonly baseDn: string;
}

export const directoryRoutes: FastifyPluginAsyncTypebox<DirectoryRouteOptions> = async (app, { directory, baseDn }) => {
  const user = (u: DirectoryUser): UserView => ({
    dn: userDn(baseDn, u.uid),
    ...u,
    memberOf: u.memberOf.map((g) => ({ name: g, dn: groupDn(baseDn, g) })),
  });
  const group = (g: DirectoryGroup): GroupView => ({ dn: groupDn(baseDn, g.name), ...g });
  const service = (s: ServiceAccount): ServiceAccountView => ({ dn: serviceDn(baseDn, s.name), ...s });

  app.get('/directory/users', { schema: { response: { 200: UserList } } }, async () => ({
    users: (await directory.listUsers()).map(user),
  }));
  app.post('/directory/users', { schema: { body: NewUserBody, response: { 201: UserView } } }, async (request, reply) =>
    reply.status(201).send(user(await directory.createUser(request.body))),
  );
  app.get('/directory/users/:uid', { schema: { params: UidParams, response: { 200: UserView } } }, async (request) =>
    user(await directory.getUser(request.params.uid)),
  );
  app.patch('/directory/users/:uid', { schema: { params: UidParams, body: UserPatchBody, response: { 200: UserView } } }, async (request) =>
    user(await directory.updateUser(request.params.uid, request.body)),
  );
  app.delete('/directory/users/:uid', { schema: { params: UidParams, response: { 204: NoContent } } }, async (request, reply) => {
    await directory.deleteUser(request.params.uid);
    return reply.status(204).send();
  });

  app.get('/directory/groups', { schema: { response: { 200: GroupList } } }, async () => ({
    groups: (await directory.listGroups()).map(group),
  }));
  app.post('/directory/groups', { schema: { body: NewGroupBody, response: { 201: GroupView } } }, async (request, reply) =>
    reply.status(201).send(group(await directory.createGroup(request.body))),
  );
  app.get('/directory/groups/:name', { schema: { params: GroupParams, response: { 200: GroupView } } }, async (request) =>
    group(await directory.getGroup(request.params.name)),
  );
  app.patch(
    '/directory/groups/:name',
    { schema: { params: GroupParams, body: GroupPatchBody, response: { 200: GroupView } } },
    async (request) => group(await directory.updateGroup(request.params.name, request.body)),
  );
  app.delete('/directory/groups/:name', { schema: { params: GroupParams, response: { 204: NoContent } } }, async (request, reply) => {
    await directory.deleteGroup(request.params.name);
    return reply.status(204).send();
  });
  app.put('/directory/groups/:name/members/:uid', { schema: { params: MemberParams, response: { 200: GroupView } } }, async (request) =>
    group(await directory.addMember(request.params.name, request.params.uid)),
  );
  app.delete('/directory/groups/:name/members/:uid', { schema: { params: MemberParams, response: { 200: GroupView } } }, async (request) =>
    group(await directory.removeMember(request.params.name, request.params.uid)),
  );

  app.get('/directory/services', { schema: { response: { 200: ServiceAccountList } } }, async () => ({
    services: (await directory.listServiceAccounts()).map(service),
  }));
};
