/**
 * A joining host finds the manager's CA from the TLS handshake alone, pinned by the token's
 * fingerprint, and writes nothing to the manager before it has it.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createServer, type Server, type TlsOptions } from 'node:tls';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CertificateAuthority } from './certificate-authority.js';
import { discoverCaCertificate } from './discovery.js';
import { certificateFingerprint } from './fingerprint.js';
import { httpsServerOptions, clientTlsOptions } from './tls-options.js';
import { pkiFixture, type PkiFixture } from './test-support/fixtures.js';
import { probeClient } from './test-support/tls-probe.js';

let f: PkiFixture;
let other: CertificateAuthority;
let servers: Server[] = [];
beforeAll(async () => {
  const [fixture, otherMaterial] = await Promise.all([pkiFixture(1), CertificateAuthority.generate({ commonName: 'STORM CA test' })]);
  f = fixture;
  other = CertificateAuthority.fromPem(otherMaterial);
});
afterEach(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  servers = [];
});

/** A manager-shaped HTTPS listener that records every byte it receives and answers "pong". */
async function listen(options: TlsOptions): Promise<{ port: number; received: string[] }> {
  const received: string[] = [];
  const server = createServer(options, (socket) => {
    socket.on('data', (chunk: Buffer) => {
      received.push(chunk.toString());
      socket.end('pong');
    });
    socket.on('error', () => undefined);
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as AddressInfo).port, received };
}

const httpsCert = (ca: CertificateAuthority) =>
  ca.issueServerCertificate({ publicKeyPem: f.keys[0]!.publicKeyPem, names: ['storm.local', '127.0.0.1'] }).certPem;

describe('discoverCaCertificate', () => {
  it("returns the manager's CA when it matches the token, having sent nothing; then verified TLS works with it", async () => {
    const { port, received } = await listen(
      httpsServerOptions({ cert: httpsCert(f.ca), key: f.keys[0]!.privateKeyPem, caCert: f.ca.certPem }),
    );
    const caPem = await discoverCaCertificate({ host: '127.0.0.1', port, caFingerprint: f.ca.fingerprint });
    expect(certificateFingerprint(caPem)).toBe(f.ca.fingerprint);
    expect(received).toEqual([]);
    const after = await probeClient(port, clientTlsOptions({ ca: caPem, servername: 'storm.local' }));
    expect(after).toMatchObject({ secureConnect: true, reply: 'pong' });
    expect(received).toEqual(['ping']);
  });

  it('refuses a manager whose CA is not the one in the token', async () => {
    const { port, received } = await listen(
      httpsServerOptions({ cert: httpsCert(other), key: f.keys[0]!.privateKeyPem, caCert: other.certPem }),
    );
    await expect(discoverCaCertificate({ host: '127.0.0.1', port, caFingerprint: f.ca.fingerprint })).rejects.toThrow(
      expect.objectContaining({ code: 'MGR_ERR_PKI_FINGERPRINT_MISMATCH' }),
    );
    expect(received).toEqual([]);
  });

  it('refuses an impostor that presents our CA certificate beside a leaf it did not issue', async () => {
    const { port } = await listen(httpsServerOptions({ cert: httpsCert(other), key: f.keys[0]!.privateKeyPem, caCert: f.ca.certPem }));
    await expect(discoverCaCertificate({ host: '127.0.0.1', port, caFingerprint: f.ca.fingerprint })).rejects.toThrow(
      expect.objectContaining({ code: 'MGR_ERR_PKI_FINGERPRINT_MISMATCH' }),
    );
  });

  it('refuses a listener that does not present the CA at all', async () => {
    const { port } = await listen({ cert: httpsCert(f.ca), key: f.keys[0]!.privateKeyPem });
    await expect(discoverCaCertificate({ host: '127.0.0.1', port, caFingerprint: f.ca.fingerprint })).rejects.toThrow(
      expect.objectContaining({ code: 'MGR_ERR_PKI_FINGERPRINT_MISMATCH' }),
    );
  });

  it('reports a manager it cannot reach as a discovery failure', async () => {
    const { port } = await listen(httpsServerOptions({ cert: httpsCert(f.ca), key: f.keys[0]!.privateKeyPem, caCert: f.ca.certPem }));
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    servers = [];
    await expect(discoverCaCertificate({ host: '127.0.0.1', port, caFingerprint: f.ca.fingerprint })).rejects.toThrow(
      expect.objectContaining({ code: 'MGR_ERR_PKI_DISCOVERY_FAILED' }),
    );
  });
});
