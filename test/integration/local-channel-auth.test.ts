/**
 * The local channel (`/channels/local/…`, what `package` publishes: an instance's writable layers,
 * its data) is readable only by the manager's hosts (their client certificate) and API token
 * holders. A real manager and stormd (libvirt test:///default), a real package, real HTTPS clients.
 */
import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStormd, type StormdProcess } from '../helpers/stormd-process.js';
import { startSubscribedManager, type SubscribedManager } from '../helpers/subscribed-manager.js';

let env: SubscribedManager;
let host: StormdProcess;

beforeAll(async () => {
  env = await startSubscribedManager('storm-local-channel-');
  host = await startStormd(env.manager, { name: 'host-a', dir: env.dir, hypervisor: 'test:///default' });
}, 180_000);
afterAll(() => env?.close());

/** A GET on the manager's listener with the given credentials: its status and body. */
function get(path: string, creds: { token?: string; cert?: string; key?: string } = {}): Promise<{ status: number; body: string }> {
  const url = new URL(path, env.manager.url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        ca: env.manager.ca,
        agent: false,
        ...(creds.cert ? { cert: creds.cert, key: creds.key } : {}),
        headers: creds.token ? { authorization: `Bearer ${creds.token}` } : {},
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('the local channel', () => {
  let layer: string;

  it('publishes a package of an instance', async () => {
    const web = await env.manager.api.post<{ id: string }>('/instances', { appliance: 'hello-web', version: '1.0.0', name: 'web1' });
    await env.manager.api.post(`/instances/${web.id}/actions`, { action: 'package', name: 'hello-site', version: '1.0.0' });
    const feed = await get('/channels/local/channel.xml', { token: env.manager.token });
    expect(feed.status).toBe(200);
    expect(feed.body).toContain('hello-site');
    const descriptor = await get('/channels/local/appliances/hello-site/1.0.0/appliance.xml', { token: env.manager.token });
    layer = [...descriptor.body.matchAll(/kind="deployment"[^>]*url="[^"]*\/channels\/local\/([^"]+)"/g)][0]![1]!;
    expect(layer).toMatch(/^layers\/[0-9a-f]{64}\.squashfs$/);
  }, 120_000);

  it('refuses a request without credentials, or with a bad token, for its feed and its layers', async () => {
    for (const path of ['/channels/local/channel.xml', '/channels/local/channel.xml.sig', `/channels/local/${layer}`]) {
      const anonymous = await get(path);
      expect(anonymous.status).toBe(401);
      expect(JSON.parse(anonymous.body)).toMatchObject({ code: 'MGR_ERR_UNAUTHORIZED' });
      expect((await get(path, { token: 'not-a-token' })).status).toBe(401);
    }
  });

  it('serves a host presenting its certificate, and a token holder', async () => {
    const cert = await readFile(join(host.data, 'cert.pem'), 'utf8');
    const key = await readFile(join(host.data, 'key.pem'), 'utf8');
    expect((await get(`/channels/local/${layer}`, { cert, key })).status).toBe(200);
    expect((await get(`/channels/local/${layer}`, { token: env.manager.token })).status).toBe(200);
  });

  it("a host still fetches the package's layers for a launch", async () => {
    const copy = await env.manager.api.post<{ state: string; layers: { kind: string }[] }>('/instances', {
      appliance: 'hello-site',
      name: 'web2',
    });
    expect(copy.state).toBe('running');
    expect(copy.layers.map((l) => l.kind)).toEqual(['os', 'appliance', 'deployment', 'instance']);
  }, 120_000);
});
