/**
 * `GET /api/v1/openapi.json` against a real manager with a real host (stormd on libvirt
 * test:///default) and a launched instance: the document needs a credential like the rest of the
 * API, it is OpenAPI 3.1, and real answers (health, the instances list, one instance, a host, the
 * catalog, an error answer) validate against the schemas it gives for their route and status, with
 * ajv's JSON Schema 2020-12 validator (OpenAPI 3.1's dialect) in strict mode.
 */
import https from 'node:https';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostList, InstanceView } from '../../manager/protocol/index.js';
import { pollUntil } from '../helpers/poll.js';
import { startStormd } from '../helpers/stormd-process.js';
import { type SubscribedManager, startSubscribedManager } from '../helpers/subscribed-manager.js';

interface Operation {
  readonly security?: readonly Record<string, readonly string[]>[];
  readonly responses: Record<string, { readonly content?: Record<string, { readonly schema: object }> }>;
}
interface OpenApiDocument {
  readonly openapi: string;
  readonly info: { readonly version: string };
  readonly paths: Record<string, Record<string, Operation>>;
}

let env: SubscribedManager;
let doc: OpenApiDocument;
const ajv = new Ajv2020({ strict: true, allErrors: true });

/** An answer as it came over the wire: status, and the body parsed as JSON. */
function call(method: string, path: string, token: string | undefined): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      `${env.manager.url}/api/v1${path}`,
      { method, ca: env.manager.ca, headers: token ? { authorization: `Bearer ${token}` } : {} },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** The document's schema of `method template`'s answer with `status` (or its `4XX` range). */
function answerSchema(method: string, template: string, status: number): object {
  const op = doc.paths[template]?.[method.toLowerCase()];
  if (!op) throw new Error(`${method} ${template} is not in the document`);
  const answer = op.responses[String(status)] ?? op.responses[`${String(status)[0]}XX`];
  const schema = answer?.content?.['application/json']?.schema;
  if (!schema) throw new Error(`${method} ${template} documents no JSON answer for ${status}`);
  return schema;
}

/** Calls the route for real and checks the answer against the document; returns the body. */
async function checked(method: string, template: string, path: string, status: number): Promise<unknown> {
  const res = await call(method, path, env.manager.token);
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  const validate = ajv.compile(answerSchema(method, template, status));
  expect(validate(res.body) ? [] : validate.errors, `${method} ${path}`).toEqual([]);
  return res.body;
}

beforeAll(async () => {
  env = await startSubscribedManager('storm-openapi-');
  await startStormd(env.manager, { name: 'host-a', dir: env.dir, hypervisor: 'test:///default' });
  await env.manager.api.post('/instances', { appliance: 'hello-web', version: '1.0.0', name: 'web1', params: { greeting: 'Hi' } });
  await pollUntil(
    'web1 running',
    async () => ((await env.manager.api.get<InstanceView>('/instances/web1')).state === 'running' ? true : undefined),
    { timeoutMs: 60_000 },
  );
  doc = (await call('GET', '/openapi.json', env.manager.token)).body as OpenApiDocument;
}, 180_000);
afterAll(async () => {
  await env?.close();
});

describe('the OpenAPI document', () => {
  it('needs a credential like the rest of the API, and documents each route with who may call it', async () => {
    const anonymous = await call('GET', '/openapi.json', undefined);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toMatchObject({ code: 'MGR_ERR_UNAUTHORIZED' });
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.paths['/api/v1/health']?.get?.security).toEqual([]);
    expect(doc.paths['/api/v1/instances']?.post?.security).toEqual([{ token: [] }, { session: [] }]);
    expect(doc.paths['/api/v1/hosts/heartbeat']?.post?.security).toEqual([{ hostCertificate: [] }]);
    // Only the API: not the guests' XML-RPC, the local channel's files or the console's pages.
    expect(Object.keys(doc.paths).every((p) => p.startsWith('/api/v1/'))).toBe(true);
  });

  it('describes real answers: health, instances, a host, the catalog, and a refusal', async () => {
    expect(await checked('GET', '/api/v1/health', '/health', 200)).toMatchObject({ status: 'ok' });
    const { instances } = (await checked('GET', '/api/v1/instances', '/instances', 200)) as { instances: InstanceView[] };
    expect(instances.map((i) => i.name)).toEqual(['web1']);
    await checked('GET', '/api/v1/instances/{id}', '/instances/web1', 200);
    const { hosts } = (await checked('GET', '/api/v1/hosts', '/hosts', 200)) as HostList;
    expect(hosts[0]?.health?.checks.length).toBeGreaterThan(0);
    await checked('GET', '/api/v1/hosts/{id}', `/hosts/${hosts[0]!.id}`, 200);
    await checked('GET', '/api/v1/appliances', '/appliances', 200);
    await checked('GET', '/api/v1/instances/{id}/console', '/instances/web1/console?bytes=100', 200);
    expect(await checked('GET', '/api/v1/instances/{id}', '/instances/no-such-one', 404)).toMatchObject({ code: 'MGR_ERR_NOT_FOUND' });
    expect(await checked('POST', '/api/v1/instances', '/instances', 400)).toMatchObject({ code: 'MGR_ERR_VALIDATION' });
  });
});
