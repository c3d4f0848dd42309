import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { installErrorHandlers } from '../http/error-handler.js';
import { directoryRoutes } from './routes.js';
import { openTestDirectory, populate, type TestDirectory } from './test-support/fixtures.js';

let t: TestDirectory;
let app: FastifyInstance;

beforeEach(async () => {
  t = await openTestDirectory();
  // The same validator settings as buildApp: unknown properties are refused, never dropped.
  app = Fastify({ ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true } } });
  installErrorHandlers(app);
  await app.register(directoryRoutes, { prefix: '/api/v1', directory: t.store, baseDn: 'dc=storm,dc=internal' });
  await app.ready();
});
afterEach(async () => {
  await app.close();
  await t.close();
});

const call = async (method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', url: string, payload?: unknown) => {
  const res = await app.inject({
    method,
    url: `/api/v1/directory${url}`,
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });
  return { status: res.statusCode, body: res.body ? (res.json() as Record<string, unknown>) : undefined, raw: res.body };
};

describe('directoryRoutes users', () => {
  it('creates, shows, lists, updates and deletes a user; answers carry the DN and no secret', async () => {
    await t.store.createGroup({ name: 'mail' });
    const created = await call('POST', '/users', {
      uid: 'alice',
      givenName: 'Alice',
      sn: 'Liddell',
      mail: 'alice@storm.internal',
      password: 'wonderland-1',
      groups: ['mail'],
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      dn: 'uid=alice,ou=people,dc=storm,dc=internal',
      uid: 'alice',
      cn: 'Alice Liddell',
      uidNumber: 10000,
      gidNumber: 100,
      hasPassword: true,
      memberOf: [{ name: 'mail', dn: 'cn=mail,ou=groups,dc=storm,dc=internal' }],
    });
    expect(created.raw).not.toMatch(/wonderland|scrypt|hash/);
    expect((await call('GET', '/users/alice')).body).toEqual(created.body);
    expect((await call('GET', '/users')).body?.['users']).toHaveLength(1);

    const patched = await call('PATCH', '/users/alice', { mail: null, loginShell: '/bin/bash', password: 'through-the-glass' });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ mail: null, loginShell: '/bin/bash', hasPassword: true });
    expect(patched.raw).not.toMatch(/through-the-glass|scrypt/);
    expect(await t.store.authenticate({ kind: 'user', name: 'alice' }, 'through-the-glass')).toBe(true);

    expect((await call('DELETE', '/users/alice')).status).toBe(204);
    expect(await call('GET', '/users/alice')).toMatchObject({ status: 404, body: { code: 'MGR_ERR_NOT_FOUND' } });
  });

  it('refuses unknown properties, bad names, short passwords and empty patches with 400', async () => {
    for (const body of [
      { uid: 'alice', password_hash: 'x' },
      { uid: 'Alice' },
      { uid: 'alice', password: 'short' },
      { uid: 'alice', mail: 'nope' },
      { uid: 'alice', uidNumber: 10 },
      { uid: 'alice', homeDirectory: 'home' },
      {},
    ]) {
      expect(await call('POST', '/users', body), JSON.stringify(body)).toMatchObject({ status: 400, body: { code: 'MGR_ERR_VALIDATION' } });
    }
    await call('POST', '/users', { uid: 'alice' });
    expect(await call('PATCH', '/users/alice', {})).toMatchObject({ status: 400 });
    expect(await call('PATCH', '/users/alice', { uid: 'bob' })).toMatchObject({ status: 400 });
    expect(await call('GET', '/users/Not..Valid')).toMatchObject({ status: 400 });
  });

  it('answers 409 for a taken uid or mail', async () => {
    await call('POST', '/users', { uid: 'alice', mail: 'a@storm.internal' });
    expect(await call('POST', '/users', { uid: 'alice' })).toMatchObject({ status: 409, body: { code: 'MGR_ERR_CONFLICT' } });
    expect(await call('POST', '/users', { uid: 'bob', mail: 'A@STORM.internal' })).toMatchObject({ status: 409 });
  });
});

describe('directoryRoutes groups and services', () => {
  it('manages groups and their members', async () => {
    await populate(t.store);
    const created = await call('POST', '/groups', { name: 'ops', description: 'Operators', members: ['bob'] });
    expect(created).toMatchObject({
      status: 201,
      body: { dn: 'cn=ops,ou=groups,dc=storm,dc=internal', name: 'ops', gidNumber: 10003, members: ['bob'] },
    });
    expect((await call('PUT', '/groups/ops/members/alice')).body).toMatchObject({ members: ['alice', 'bob'] });
    expect((await call('DELETE', '/groups/ops/members/bob')).body).toMatchObject({ members: ['alice'] });
    expect(await call('DELETE', '/groups/ops/members/bob')).toMatchObject({ status: 404 });
    expect(await call('PUT', '/groups/ops/members/ghost')).toMatchObject({ status: 404 });
    expect((await call('PATCH', '/groups/ops', { description: null })).body).toMatchObject({ description: null });
    expect(((await call('GET', '/groups')).body?.['groups'] as { name: string }[] | undefined)?.map((g) => g.name)).toEqual([
      'empty',
      'mail',
      'ops',
      'staff',
    ]);
    expect((await call('DELETE', '/groups/ops')).status).toBe(204);
    expect(await call('POST', '/groups', { name: 'x', gidNumber: 1 })).toMatchObject({ status: 400 });
  });

  it('lists service accounts with their bind DN and without a secret', async () => {
    const { mx1 } = await populate(t.store);
    const res = await call('GET', '/services');
    expect(res.body).toEqual({
      services: [
        {
          dn: 'cn=mx1,ou=services,dc=storm,dc=internal',
          name: 'mx1',
          owner: 'i-mx1',
          description: 'Postfix on mx1',
          createdAt: expect.any(String),
        },
      ],
    });
    expect(res.raw).not.toContain(mx1);
  });
});
