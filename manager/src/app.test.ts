import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import { managerConfig } from './config.js';
import { SCHEMA_VERSION } from './db/migrations.js';

let dir: string;
let app: FastifyInstance;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'storm-app-'));
  app = await buildApp(managerConfig({ data: dir, logLevel: 'silent' }), { localHypervisor: 'test:///default' });
});
afterEach(async () => {
  await app.close();
  await rm(dir, { recursive: true, force: true });
});

const token = async (): Promise<string> => (await readFile(join(dir, 'admin.token'), 'utf8')).trim();

describe('buildApp', () => {
  it('answers health without a token, with the hypervisor and schema version', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/health' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'ok', hypervisor: 'test:///default', schemaVersion: SCHEMA_VERSION });
  });

  it('creates the admin token once, mode 0600', async () => {
    const st = await stat(join(dir, 'admin.token'));
    expect(st.mode & 0o777).toBe(0o600);
    const first = await token();
    await app.close();
    app = await buildApp(managerConfig({ data: dir, logLevel: 'silent' }));
    expect(await token()).toBe(first);
    expect(app.storm.adminTokenCreated).toBe(false);
  });

  it('answers 401 { code, message } on /api/v1 without a valid token, known route or not', async () => {
    for (const url of ['/api/v1/whoami', '/api/v1/no-such-thing']) {
      const none = await app.inject({ method: 'GET', url });
      expect(none.statusCode).toBe(401);
      expect(none.json()).toMatchObject({ code: 'MGR_ERR_UNAUTHORIZED' });
      const wrong = await app.inject({ method: 'GET', url, headers: { authorization: 'Bearer nope' } });
      expect(wrong.statusCode).toBe(401);
    }
  });

  it('serves protected routes with the admin token and 404s unknown ones in the catalog shape', async () => {
    const auth = { authorization: `Bearer ${await token()}` };
    const me = await app.inject({ method: 'GET', url: '/api/v1/whoami', headers: auth });
    expect(me.statusCode).toBe(200);
    expect(me.json()).toEqual({ principal: 'admin' });
    const missing = await app.inject({ method: 'GET', url: '/api/v1/no-such-thing', headers: auth });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({ code: 'MGR_ERR_ROUTE_NOT_FOUND', message: 'no such route: GET /api/v1/no-such-thing' });
  });
});
