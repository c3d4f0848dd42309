import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../app.js';
import { managerConfig } from '../config.js';

interface Operation {
  readonly security?: unknown;
  readonly tags?: readonly string[];
  readonly responses: Record<string, { readonly content?: Record<string, { readonly schema?: Record<string, unknown> }> }>;
}

/** `METHOD /path/{param}` of each route in fastify's route tree (HEAD left out: it follows GET). */
function routesOf(tree: string): string[] {
  const stack: string[] = [];
  const routes: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^([\s│├└─]*)(.+?)(?: \(([^)]+)\))?$/.exec(line);
    if (!m) continue;
    stack.length = m[1]!.length / 4;
    stack.push(m[2]!);
    const path = stack.join('').replace(/:(\w+)/g, '{$1}');
    for (const method of (m[3] ?? '').split(', ').filter((x) => x && x !== 'HEAD')) routes.push(`${method} ${path}`);
  }
  return routes;
}

let dir: string;
let app: FastifyInstance;
let operations: [string, Operation][];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'storm-openapi-'));
  app = await buildApp(managerConfig({ data: dir, logLevel: 'silent' }), { localHypervisor: 'test:///default' });
  const token = (await readFile(join(dir, 'admin.token'), 'utf8')).trim();
  const res = await app.inject({ method: 'GET', url: '/api/v1/openapi.json', headers: { authorization: `Bearer ${token}` } });
  expect(res.statusCode).toBe(200);
  const doc = res.json<{ paths: Record<string, Record<string, Operation>> }>();
  operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]): [string, Operation] => [`${method.toUpperCase()} ${path}`, op]),
  );
});
afterAll(async () => {
  await app?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the OpenAPI document', () => {
  it('has every API route, and nothing outside /api/v1', () => {
    const registered = routesOf(app.printRoutes({ commonPrefix: false })).filter((r) => r.includes(' /api/v1/'));
    expect(registered.length).toBeGreaterThan(55);
    expect(operations.map(([name]) => name).sort()).toEqual(registered.sort());
  });

  it('gives each route its credential, its success answer with a schema, and the error shape', () => {
    const gaps = operations.flatMap(([name, op]) => {
      // 2XX, or 101 for a WebSocket (the upgrade).
      const success = Object.entries(op.responses).filter(([status]) => /^(2..|101)$/.test(status));
      const problems = [
        op.security === undefined ? 'no security' : '',
        success.length === 0 ? 'no success answer' : '',
        // A JSON answer says what it holds; 204 and 101 have no body; bytes, PEM and events say their type.
        ...success.map(([status, r]) =>
          status === '204' ||
          status === '101' ||
          Object.values(r.content ?? {}).every((c) => c.schema && Object.keys(c.schema).some((k) => k !== 'description'))
            ? ''
            : `answer ${status} without a schema`,
        ),
        op.responses['4XX']?.content?.['application/json']?.schema?.['required'] ? '' : 'no 4XX error shape',
      ].filter(Boolean);
      return problems.length ? [`${name}: ${problems.join(', ')}`] : [];
    });
    // The document itself is the one answer whose shape is OpenAPI's, not ours.
    expect(gaps).toEqual(['GET /api/v1/openapi.json: answer 200 without a schema']);
  });

  it('asks for a credential exactly where the route refuses an anonymous call', async () => {
    const wrong: string[] = [];
    for (const [name, op] of operations) {
      const [method, template] = name.split(' ') as [string, string];
      // The credential hooks run before validation: any parameter value and an empty body do.
      const url = template.replace(/\{\w+\}/g, 'x');
      const res = await app.inject({
        method: method as InjectOptions['method'],
        url,
        ...(method === 'GET' || method === 'DELETE' ? {} : { payload: {} }),
      });
      const documentedPublic = Array.isArray(op.security) && op.security.length === 0;
      if (documentedPublic === (res.statusCode === 401))
        wrong.push(`${name}: documented ${documentedPublic ? 'public' : 'with a credential'}, anonymous call answered ${res.statusCode}`);
    }
    expect(operations.length).toBeGreaterThan(55);
    expect(wrong).toEqual([]);
  });
});
