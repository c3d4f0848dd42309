import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../app.js';
import { managerConfig } from '../config.js';

let dir: string;
let app: FastifyInstance;
const PASSWORD = 'a long enough password';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'storm-session-'));
  await writeFile(join(dir, 'admin.pw'), `${PASSWORD}\n`);
  app = await buildApp(managerConfig({ data: dir, logLevel: 'silent', adminPasswordFile: join(dir, 'admin.pw') }));
});
afterAll(async () => {
  await app.close();
  await rm(dir, { recursive: true, force: true });
});

const login = (password: string, remoteAddress = '127.0.0.1') =>
  app.inject({ method: 'POST', url: '/api/v1/session', payload: { username: 'admin', password }, remoteAddress });
const cookieOf = (res: { headers: Record<string, unknown> }) => String(res.headers['set-cookie']).split(';')[0]!;

describe('console sessions', () => {
  it('refuses a wrong password with the catalog code and sets no cookie', async () => {
    const res = await login('wrong password', '10.1.1.1');
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({ code: 'MGR_ERR_LOGIN_FAILED', message: 'wrong username or password' });
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('logs in with an httpOnly, Secure, SameSite=Strict cookie and answers who am I with the CSRF token', async () => {
    const res = await login(PASSWORD);
    expect(res.statusCode).toBe(201);
    const setCookie = String(res.headers['set-cookie']);
    expect(setCookie).toMatch(/^storm_session=[\w-]{43}; Path=\/; Max-Age=43200; HttpOnly; Secure; SameSite=Strict$/);
    const body = res.json<{ csrfToken: string }>();
    expect(body).toMatchObject({ username: 'admin', via: 'session' });
    const me = await app.inject({ method: 'GET', url: '/api/v1/session', headers: { cookie: cookieOf(res) } });
    expect(me.json()).toMatchObject({ username: 'admin', via: 'session', csrfToken: body.csrfToken });
    const whoami = await app.inject({ method: 'GET', url: '/api/v1/whoami', headers: { cookie: cookieOf(res) } });
    expect(whoami.json()).toEqual({ principal: 'admin' });
  });

  it('refuses a cookie-authenticated change without the CSRF token or with a wrong one, accepts it with the right one', async () => {
    const res = await login(PASSWORD);
    const cookie = cookieOf(res);
    const { csrfToken } = res.json<{ csrfToken: string }>();
    const change = (headers: Record<string, string>) =>
      app.inject({ method: 'POST', url: '/api/v1/reconcile', headers: { cookie, ...headers } });
    const none = await change({});
    expect(none.statusCode).toBe(403);
    expect(none.json()).toMatchObject({ code: 'MGR_ERR_CSRF' });
    // One character off; the token's last character is 'A' one time in sixteen, so never write 'A' over an 'A'.
    const wrong = `${csrfToken.slice(0, -1)}${csrfToken.endsWith('A') ? 'B' : 'A'}`;
    expect((await change({ 'x-csrf-token': wrong })).statusCode).toBe(403);
    expect((await change({ 'x-csrf-token': csrfToken })).statusCode).toBe(200);
    // Unknown routes check CSRF too before saying 404.
    expect((await app.inject({ method: 'DELETE', url: '/api/v1/nothing', headers: { cookie } })).statusCode).toBe(403);
  });

  it('keeps API tokens working for the CLI without any CSRF token; nothing at all is 401', async () => {
    const token = (await readFile(join(dir, 'admin.token'), 'utf8')).trim();
    const withToken = await app.inject({ method: 'POST', url: '/api/v1/reconcile', headers: { authorization: `Bearer ${token}` } });
    expect(withToken.statusCode).toBe(200);
    const me = await app.inject({ method: 'GET', url: '/api/v1/session', headers: { authorization: `Bearer ${token}` } });
    expect(me.json()).toEqual({ username: 'admin', via: 'token', csrfToken: null, expiresAt: null });
    for (const url of ['/api/v1/instances', '/api/v1/session', '/api/v1/events/recent']) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ code: 'MGR_ERR_UNAUTHORIZED' });
    }
    // A wrong bearer token is not rescued by a cookie.
    const cookie = cookieOf(await login(PASSWORD));
    expect((await app.inject({ method: 'GET', url: '/api/v1/whoami', headers: { cookie, authorization: 'Bearer nope' } })).statusCode).toBe(
      401,
    );
  });

  it('logs out: the cookie is cleared and the session is gone', async () => {
    const res = await login(PASSWORD);
    const cookie = cookieOf(res);
    const { csrfToken } = res.json<{ csrfToken: string }>();
    expect((await app.inject({ method: 'DELETE', url: '/api/v1/session', headers: { cookie } })).statusCode).toBe(403);
    const out = await app.inject({ method: 'DELETE', url: '/api/v1/session', headers: { cookie, 'x-csrf-token': csrfToken } });
    expect(out.statusCode).toBe(204);
    expect(String(out.headers['set-cookie'])).toMatch(/^storm_session=; Path=\/; Max-Age=0/);
    const after = await app.inject({ method: 'GET', url: '/api/v1/session', headers: { cookie } });
    expect(after.statusCode).toBe(401);
    expect(after.json().message).toMatch(/log in again/);
  });

  it('limits failed logins per account and address with 429 and Retry-After', async () => {
    const from = '10.2.2.2';
    for (let i = 0; i < 5; i++) expect((await login('nope nope', from)).statusCode).toBe(401);
    const blocked = await login(PASSWORD, from);
    expect(blocked.statusCode).toBe(429);
    expect(blocked.json()).toMatchObject({ code: 'MGR_ERR_TOO_MANY_ATTEMPTS' });
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    expect((await login(PASSWORD, '10.3.3.3')).statusCode).toBe(201);
  });

  it('ten failures from each of three addresses lock those out, not the administrator: another address still logs in', async () => {
    const attackers = ['10.4.4.1', '10.4.4.2', '10.4.4.3'];
    for (const from of attackers) {
      for (let i = 0; i < 10; i++) expect([401, 429]).toContain((await login('nope nope', from)).statusCode);
      expect((await login(PASSWORD, from)).statusCode).toBe(429);
    }
    expect((await login(PASSWORD, '10.4.4.4')).statusCode).toBe(201);
  });

  it('takes the login as JSON only (a cross-site form cannot post it)', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/session',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `username=admin&password=${encodeURIComponent(PASSWORD)}`,
    });
    expect(res.statusCode).toBe(415);
  });
});
