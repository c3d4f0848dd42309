/**
 * The CLI takes only a manager-role certificate for the manager: real HTTPS servers on 127.0.0.1
 * with certificates of one CA that all name 127.0.0.1, and the CLI's real client.
 */
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCsr } from '../../trust/csr.js';
import { pkiFixture, type PkiFixture } from '../../trust/test-support/fixtures.js';
import { ManagerClient, openWebSocket } from './client.js';

let f: PkiFixture;
const servers: Server[] = [];
/** What each server was asked, by its port. */
const seen = new Map<number, string[]>();

beforeAll(async () => {
  f = await pkiFixture(2);
});
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
});

async function serve(cert: string, key: string): Promise<string> {
  const requests: string[] = [];
  const server = createServer({ cert, key }, (req, res) => {
    requests.push(`${req.method} ${req.url}`);
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"hosts":[]}');
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  seen.set(port, requests);
  return `https://127.0.0.1:${port}`;
}

describe('the CLI checks the manager role', () => {
  it("answers a server with the manager's role", async () => {
    const cert = f.ca.issueServerCertificate({
      publicKeyPem: f.keys[0]!.publicKeyPem,
      names: ['127.0.0.1', 'storm.local'],
      role: 'manager',
    });
    const url = await serve(cert.certPem, f.keys[0]!.privateKeyPem);
    await expect(new ManagerClient({ url, token: 't', ca: f.ca.certPem }).get('/hosts')).resolves.toEqual({ hosts: [] });
  });

  it("refuses a host's certificate of the same CA for the same address, and sends it nothing, not even the token", async () => {
    const cert = f.ca.issueHostCertificate(createCsr(f.keys[1]!.privateKeyPem, 'x'), { hostName: 'host-a', altNames: ['127.0.0.1'] });
    const url = await serve(cert.certPem, f.keys[1]!.privateKeyPem);
    const refused = new ManagerClient({ url, token: 'secret', ca: f.ca.certPem }).get('/hosts');
    await expect(refused).rejects.toMatchObject({ code: 'CLI_ERR_UNTRUSTED' });
    await expect(refused).rejects.toThrow(
      /is not the manager: its certificate \(CN host-a\) is from STORM's CA but has role host, not manager; check --url/,
    );
    expect(seen.get(Number(new URL(url).port))).toEqual([]);
  });

  it('refuses it for a WebSocket too (storm console --attach)', async () => {
    const cert = f.ca.issueHostCertificate(createCsr(f.keys[1]!.privateKeyPem, 'x'), { hostName: 'host-b', altNames: ['127.0.0.1'] });
    const url = await serve(cert.certPem, f.keys[1]!.privateKeyPem);
    const upgrades: string[] = [];
    servers.at(-1)!.on('upgrade', (req: { url?: string }, socket: { destroy(): void }) => {
      upgrades.push(String(req.url));
      socket.destroy();
    });
    const refused = openWebSocket(new URL('/api/v1/instances/web1/console/attach', url), 'secret', f.ca.certPem, `${url}/`);
    await expect(refused).rejects.toMatchObject({ code: 'CLI_ERR_UNTRUSTED' });
    await expect(refused).rejects.toThrow(
      /is not the manager: its certificate \(CN host-b\) is from STORM's CA but has role host, not manager/,
    );
    expect(upgrades).toEqual([]);
  });
});
