/**
 * checkPeer on its own: it must refuse what TLS did not authorise even on a server misconfigured
 * without rejectUnauthorized (the full matrix with the right options is in tls-options.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateAuthority } from './certificate-authority.js';
import { MANAGER_COMMON_NAME } from './profiles.js';
import { clientTlsOptions, serverTlsOptions } from './tls-options.js';
import { pkiFixture, type PkiFixture } from './test-support/fixtures.js';
import { probeClient, startProbeServer, type ServerProbe } from './test-support/tls-probe.js';

let f: PkiFixture;
let other: CertificateAuthority;
let probe: ServerProbe;
beforeAll(async () => {
  const [fixture, otherMaterial] = await Promise.all([pkiFixture(2), CertificateAuthority.generate({ commonName: 'STORM CA other' })]);
  f = fixture;
  other = CertificateAuthority.fromPem(otherMaterial);
  const server = f.ca.issueServerCertificate({ publicKeyPem: f.keys[0]!.publicKeyPem, names: ['127.0.0.1'] });
  const misconfigured = {
    ...serverTlsOptions({ cert: server.certPem, key: f.keys[0]!.privateKeyPem, ca: f.ca.certPem }),
    rejectUnauthorized: false,
  };
  probe = await startProbeServer(misconfigured);
});
afterAll(() => probe.close());

describe('checkPeer', () => {
  it('accepts the manager and reports who it is', async () => {
    const cert = f.ca.issueClientCertificate({ publicKeyPem: f.keys[1]!.publicKeyPem, role: 'manager' });
    const outcome = await probeClient(
      probe.port,
      clientTlsOptions({ ca: f.ca.certPem, servername: '127.0.0.1', cert: cert.certPem, key: f.keys[1]!.privateKeyPem }),
    );
    expect(outcome.reply).toBe('pong');
    await probe.connectionsDone(1);
    expect(probe.events).toContainEqual({ kind: 'accepted', commonName: MANAGER_COMMON_NAME, sessionReused: false });
  });

  it('refuses a certificate TLS did not authorise, even when the server forgot rejectUnauthorized', async () => {
    const before = probe.events.length;
    const foreign = other.issueClientCertificate({ publicKeyPem: f.keys[1]!.publicKeyPem, role: 'manager' });
    const outcome = await probeClient(
      probe.port,
      clientTlsOptions({ ca: f.ca.certPem, servername: '127.0.0.1', cert: foreign.certPem, key: f.keys[1]!.privateKeyPem }),
    );
    expect(outcome.reply).toBe('');
    await probe.connectionsDone(2);
    expect(probe.events.slice(before)).toEqual([
      { kind: 'secure-connection' },
      { kind: 'peer-refused', message: 'peer certificate refused: not authorised by TLS: UNABLE_TO_VERIFY_LEAF_SIGNATURE' },
      { kind: 'closed' },
    ]);
  });
});
