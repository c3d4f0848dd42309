/**
 * ManagerClient's connections, against a real HTTPS server on 127.0.0.1 with the manager's
 * certificate (role manager, from a test CA) and the host presenting its own: calls in a row share
 * one kept-alive TLS connection (a heartbeat is not a handshake), and a new identity after a
 * renewal goes out on a new connection, never on one made with the old certificate.
 */
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pkiFixture, type PkiFixture } from '../../../trust/test-support/fixtures.js';
import { ManagerClient } from './manager-client.js';

let f: PkiFixture;
let server: Server;
let url: string;
let hostCert: string;
let renewedCert: string;
/** The serial of the client certificate each accepted TLS connection presented, in order. */
const connections: string[] = [];

beforeAll(async () => {
  f = await pkiFixture(2);
  const managerCert = f.ca.issueServerCertificate({ publicKeyPem: f.keys[0]!.publicKeyPem, names: ['127.0.0.1'], role: 'manager' });
  hostCert = f.ca.issueClientCertificate({ publicKeyPem: f.keys[1]!.publicKeyPem, role: 'host' }).certPem;
  renewedCert = f.ca.issueClientCertificate({ publicKeyPem: f.keys[1]!.publicKeyPem, role: 'host' }).certPem;
  server = createServer(
    { cert: managerCert.certPem, key: f.keys[0]!.privateKeyPem, ca: f.ca.certPem, requestCert: true, rejectUnauthorized: true },
    (req, res) => {
      req.resume();
      req.on('end', () => res.setHeader('content-type', 'application/json').end('{"ok":true}'));
    },
  );
  server.on('secureConnection', (socket) => connections.push(socket.getPeerCertificate().serialNumber));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('ManagerClient connections', () => {
  it('reuse one TLS connection for calls in a row, and open a new one for a renewed certificate', async () => {
    const client = new ManagerClient({ managerUrl: url, caPem: f.ca.certPem, certPem: hostCert, keyPem: f.keys[1]!.privateKeyPem });
    try {
      for (let i = 0; i < 3; i++) expect(await client.postJson('/api/v1/hosts/heartbeat', { beat: i })).toEqual({ ok: true });
      expect(connections).toHaveLength(1);
      client.setIdentity({ certPem: renewedCert, keyPem: f.keys[1]!.privateKeyPem });
      expect(await client.getText('/api/v1/pki/crl', 1024)).toBe('{"ok":true}');
      expect(connections).toHaveLength(2);
      expect(connections[1]).not.toBe(connections[0]);
    } finally {
      client.close();
    }
  });
});
