/**
 * The mutual-TLS matrix against a stormd-shaped server built from serverTlsOptions + checkPeer,
 * and the manager's side built from clientTlsOptions. Real TLS on 127.0.0.1; node-forge makes the
 * bad certificates; OpenSSL (through Node's tls) must refuse each before any handler runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateAuthority } from './certificate-authority.js';
import { buildCertificate, signerFromPem, type CertificateSpec, type IssuedCertificate } from './certificate-builder.js';
import { LIBVIRT_CLIENT_COMMON_NAME } from './libvirt-bundle.js';
import { MANAGER_COMMON_NAME, clientExtensions, validityWindow } from './profiles.js';
import { publicKeyPin, roleExtension } from './roles.js';
import { clientTlsOptions, serverTlsOptions } from './tls-options.js';
import { createCsr } from './csr.js';
import { DAY_MS, pkiFixture, type PkiFixture } from './test-support/fixtures.js';
import { probeClient, startProbeServer, type ClientOutcome, type ServerEvent, type ServerProbe } from './test-support/tls-probe.js';

let f: PkiFixture;
let other: CertificateAuthority;
let stormd: IssuedCertificate;
let manager: IssuedCertificate;

beforeAll(async () => {
  // Another CA with the very same subject name as ours: only the signature tells them apart.
  const [fixture, otherMaterial] = await Promise.all([pkiFixture(3), CertificateAuthority.generate({ commonName: 'STORM CA test' })]);
  f = fixture;
  other = CertificateAuthority.fromPem(otherMaterial);
  stormd = f.ca.issueServerCertificate({ publicKeyPem: f.keys[0]!.publicKeyPem, names: ['host-1.example', '127.0.0.1'] });
  manager = f.ca.issueClientCertificate({ publicKeyPem: f.keys[1]!.publicKeyPem, role: 'manager' });
});

const stormdKey = (): string => f.keys[0]!.privateKeyPem;
const managerKey = (): string => f.keys[1]!.privateKeyPem;
/** The key of a leaf that tries to act as a CA. */
const rogueKey = (): string => f.keys[2]!.privateKeyPem;

/** A client certificate for the manager's key, made directly with node-forge; defaults are a good one. */
function forgeClient(spec: Partial<CertificateSpec> = {}): IssuedCertificate {
  const issuer = spec.issuer ?? f.caSigner;
  return buildCertificate({
    commonName: MANAGER_COMMON_NAME,
    publicKeyPem: f.keys[1]!.publicKeyPem,
    issuer,
    ...validityWindow(new Date(), 30),
    // authorityKeyIdentifier names the real issuer, or OpenSSL would look no further than our CA.
    extensions: [...clientExtensions('key' in issuer ? issuer.keyIdentifier : ''), roleExtension('manager')],
    ...spec,
  });
}

const csrFor = (keyPem: string): string => createCsr(keyPem, 'any-name');

/** Runs one client against a probe server and returns that connection's server-side events. */
async function attempt(
  probe: ServerProbe,
  client: Parameters<typeof clientTlsOptions>[0],
  session?: Buffer,
): Promise<{ client: ClientOutcome; server: ServerEvent[] }> {
  const before = probe.events.length;
  const ended = probe.events.filter((e) => e.kind === 'refused' || e.kind === 'closed').length;
  const outcome = await probeClient(probe.port, { ...clientTlsOptions(client), ...(session ? { session } : {}) });
  await probe.connectionsDone(ended + 1);
  return { client: outcome, server: probe.events.slice(before) };
}

describe('stormd side: serverTlsOptions + checkPeer', () => {
  let probe: ServerProbe;
  let revoked: IssuedCertificate;
  const asManager = (cert: string | undefined): Parameters<typeof clientTlsOptions>[0] => ({
    ca: f.ca.certPem,
    servername: 'host-1.example',
    ...(cert === undefined ? {} : { cert, key: managerKey() }),
  });

  beforeAll(async () => {
    revoked = f.ca.issueClientCertificate({ publicKeyPem: f.keys[1]!.publicKeyPem, role: 'manager' });
    const crl = f.ca.buildCrl([{ serial: revoked.serial, revokedAt: new Date() }], 1);
    probe = await startProbeServer(serverTlsOptions({ cert: stormd.certPem, key: stormdKey(), ca: f.ca.certPem, crl }), {
      role: 'manager',
      keyPin: publicKeyPin(manager.certPem),
    });
  });
  afterAll(() => probe.close());

  it('accepts the manager: handshake, checkPeer, then the request is served', async () => {
    const { client, server } = await attempt(probe, asManager(manager.certPem));
    expect(server).toEqual([
      { kind: 'secure-connection' },
      { kind: 'accepted', commonName: MANAGER_COMMON_NAME, sessionReused: false },
      { kind: 'data', text: 'ping' },
      { kind: 'closed' },
    ]);
    expect(client.reply).toBe('pong');
  });

  /**
   * With a leaf posing as a CA, OpenSSL meets several errors (INVALID_CA first, as the openssl CLI
   * test in certificate-authority.test.ts shows) and Node reports the last one, which depends on
   * the chain; UNABLE_TO_VERIFY_LEAF_SIGNATURE is not among them, as it would mean the rogue
   * issuer was never examined.
   */
  const LEAF_AS_CA = ['INVALID_CA', 'UNABLE_TO_GET_CRL', 'UNSPECIFIED', 'KEYUSAGE_NO_CERTSIGN'];

  /** [what, the certificate chain the client presents, OpenSSL's verify code(s)] */
  const tlsRefusals: [string, () => string, string | string[]][] = [
    [
      'a certificate from another CA with the same subject name and role',
      () => other.issueClientCertificate({ publicKeyPem: f.keys[1]!.publicKeyPem, role: 'manager' }).certPem,
      'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    ],
    [
      'an expired certificate',
      () =>
        f.ca
          .withClock(() => new Date(Date.now() - 400 * DAY_MS))
          .issueClientCertificate({ publicKeyPem: f.keys[1]!.publicKeyPem, role: 'manager' }).certPem,
      'CERT_HAS_EXPIRED',
    ],
    [
      'a certificate not yet valid',
      () =>
        f.ca
          .withClock(() => new Date(Date.now() + DAY_MS))
          .issueClientCertificate({ publicKeyPem: f.keys[1]!.publicKeyPem, role: 'manager' }).certPem,
      'CERT_NOT_YET_VALID',
    ],
    ['a revoked certificate (CRL)', () => revoked.certPem, 'CERT_REVOKED'],
    [
      'a certificate issued by a leaf of our CA (a libvirt client certificate, CA:false)',
      () => {
        const leaf = f.ca.issueClientCertificate({ publicKeyPem: f.keys[2]!.publicKeyPem, commonName: LIBVIRT_CLIENT_COMMON_NAME });
        return forgeClient({ issuer: signerFromPem(leaf.certPem, rogueKey()) }).certPem + leaf.certPem;
      },
      LEAF_AS_CA,
    ],
    [
      'a certificate issued by a leaf of our CA with keyCertSign but no basicConstraints',
      () => {
        const leaf = forgeClient({
          commonName: 'not-a-ca',
          publicKeyPem: f.keys[2]!.publicKeyPem,
          extensions: [
            { name: 'keyUsage', keyCertSign: true, digitalSignature: true, critical: true },
            { name: 'subjectKeyIdentifier' },
            { name: 'authorityKeyIdentifier', keyIdentifier: f.caSigner.keyIdentifier },
          ],
        });
        return forgeClient({ issuer: signerFromPem(leaf.certPem, rogueKey()) }).certPem + leaf.certPem;
      },
      LEAF_AS_CA,
    ],
    [
      'a serverAuth-only certificate with the manager role (OpenSSL checks the ssl_client purpose)',
      () => f.ca.issueServerCertificate({ publicKeyPem: f.keys[1]!.publicKeyPem, names: [MANAGER_COMMON_NAME], role: 'manager' }).certPem,
      'INVALID_PURPOSE',
    ],
  ];
  for (const [what, chain, reasons] of tlsRefusals) {
    it(`refuses ${what} (${String(reasons)}), before any handler runs`, async () => {
      const { client, server } = await attempt(probe, asManager(chain()));
      expect(server).toEqual([{ kind: 'refused', reason: expect.any(String) }]);
      expect([reasons].flat()).toContain((server[0] as { reason: string }).reason);
      expect(probe.refusals.at(-1)).toMatchObject({ remoteAddress: '127.0.0.1', remotePort: expect.any(Number) });
      expect(client.reply).toBe('');
    });
  }

  it('refuses a client without a certificate (TLS 1.3 certificate_required alert)', async () => {
    const { client, server } = await attempt(probe, asManager(undefined));
    expect(server).toEqual([{ kind: 'refused', reason: 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE' }]);
    expect(client.errorCode).toBe('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED');
  });

  it('lets another clientAuth certificate of our CA through TLS, and checkPeer refuses it before the request', async () => {
    const libvirtClient = f.ca.issueClientCertificate({ publicKeyPem: f.keys[1]!.publicKeyPem, commonName: LIBVIRT_CLIENT_COMMON_NAME });
    const { client, server } = await attempt(probe, asManager(libvirtClient.certPem));
    expect(server).toEqual([
      { kind: 'secure-connection' },
      {
        kind: 'peer-refused',
        message: `peer certificate refused: certificate of "${LIBVIRT_CLIENT_COMMON_NAME}" (serial ${libvirtClient.serial}) has role none, not manager`,
      },
      { kind: 'closed' },
    ]);
    expect(client.reply).toBe('');
  });

  it('refuses a host certificate named like the manager: the role decides, never the name', async () => {
    const host = f.ca.issueHostCertificate(csrFor(f.keys[1]!.privateKeyPem), { hostName: MANAGER_COMMON_NAME, altNames: ['storm.local'] });
    const { client, server } = await attempt(probe, asManager(host.certPem));
    expect(server).toEqual([
      { kind: 'secure-connection' },
      {
        kind: 'peer-refused',
        message: `peer certificate refused: certificate of "${MANAGER_COMMON_NAME}" (serial ${host.serial}) has role host, not manager`,
      },
      { kind: 'closed' },
    ]);
    expect(client.reply).toBe('');
  });

  it('refuses a manager-role certificate for another key than the pinned one', async () => {
    const otherKey = f.ca.issueClientCertificate({ publicKeyPem: f.keys[2]!.publicKeyPem, role: 'manager' });
    const { server } = await attempt(probe, { ca: f.ca.certPem, servername: 'host-1.example', cert: otherKey.certPem, key: rogueKey() });
    expect(server.map((e) => e.kind)).toEqual(['secure-connection', 'peer-refused', 'closed']);
    expect(server[1]).toMatchObject({ message: expect.stringContaining(`not the pinned ${publicKeyPin(manager.certPem)}`) });
  });

  it('refuses in checkPeer a manager-role certificate without extKeyUsage (OpenSSL lets those through)', async () => {
    const noEku = forgeClient({
      extensions: [...clientExtensions(f.caSigner.keyIdentifier).filter((e) => e.name !== 'extKeyUsage'), roleExtension('manager')],
    });
    const { server } = await attempt(probe, asManager(noEku.certPem));
    expect(server.map((e) => e.kind)).toEqual(['secure-connection', 'peer-refused', 'closed']);
    expect(server[1]).toMatchObject({ message: expect.stringContaining('no clientAuth') });
  });

  it('does not resume sessions, so every connection is verified against the current CRL', async () => {
    const first = await attempt(probe, asManager(manager.certPem));
    expect(first.client.session).toBeDefined();
    const second = await attempt(probe, asManager(manager.certPem), first.client.session);
    expect(second.server).toContainEqual({ kind: 'accepted', commonName: MANAGER_COMMON_NAME, sessionReused: false });
  });
});

describe('revocation reaches a running stormd through setSecureContext', () => {
  it('accepts a certificate, then refuses it once the new CRL is loaded', async () => {
    const cert = f.ca.issueClientCertificate({ publicKeyPem: f.keys[1]!.publicKeyPem, role: 'manager' });
    const options = (crl: string) => serverTlsOptions({ cert: stormd.certPem, key: stormdKey(), ca: f.ca.certPem, crl });
    const probe = await startProbeServer(options(f.ca.buildCrl([], 1)));
    try {
      const client = { ca: f.ca.certPem, servername: 'host-1.example', cert: cert.certPem, key: managerKey() };
      expect((await attempt(probe, client)).client.reply).toBe('pong');
      probe.server.setSecureContext(options(f.ca.buildCrl([{ serial: cert.serial, revokedAt: new Date() }], 2)));
      expect((await attempt(probe, client)).server).toEqual([{ kind: 'refused', reason: 'CERT_REVOKED' }]);
    } finally {
      await probe.close();
    }
  });

  it('refuses everyone once the CRL is past its nextUpdate: hosts must keep fetching it', async () => {
    const stale = f.ca.withClock(() => new Date(Date.now() - 31 * DAY_MS)).buildCrl([], 1);
    const probe = await startProbeServer(serverTlsOptions({ cert: stormd.certPem, key: stormdKey(), ca: f.ca.certPem, crl: stale }));
    try {
      const { server } = await attempt(probe, { ca: f.ca.certPem, servername: 'host-1.example', cert: manager.certPem, key: managerKey() });
      expect(server).toEqual([{ kind: 'refused', reason: 'CRL_HAS_EXPIRED' }]);
    } finally {
      await probe.close();
    }
  });
});

describe('manager side: clientTlsOptions', () => {
  /** Starts a stormd presenting `serverCert`, dials it as the manager, and reports both ends. */
  async function dial(
    serverCert: IssuedCertificate,
    servername: string,
    crl?: string,
    role?: 'manager',
  ): Promise<{ client: ClientOutcome; server: ServerEvent[] }> {
    const probe = await startProbeServer(serverTlsOptions({ cert: serverCert.certPem, key: stormdKey(), ca: f.ca.certPem }));
    try {
      return await attempt(probe, {
        ca: f.ca.certPem,
        cert: manager.certPem,
        key: managerKey(),
        servername,
        ...(crl ? { crl } : {}),
        ...(role ? { role } : {}),
      });
    } finally {
      await probe.close();
    }
  }
  const hostCert = (names: string[], ca: CertificateAuthority = f.ca): IssuedCertificate =>
    ca.issueServerCertificate({ publicKeyPem: f.keys[0]!.publicKeyPem, names });

  it('accepts a stormd whose certificate names the host dialled by DNS name', async () => {
    const { client, server } = await dial(stormd, 'host-1.example');
    expect(client).toMatchObject({ secureConnect: true, reply: 'pong', errorCode: undefined });
    expect(server).toContainEqual({ kind: 'data', text: 'ping' });
  });

  it('accepts a stormd dialled by IP address when its certificate has that IP SAN', async () => {
    expect((await dial(stormd, '127.0.0.1')).client.reply).toBe('pong');
  });

  const refusals: [string, () => IssuedCertificate, string, string][] = [
    ['a certificate for another host name', () => hostCert(['host-2.example']), 'host-1.example', 'ERR_TLS_CERT_ALTNAME_INVALID'],
    ['a certificate for another IP address', () => hostCert(['host-1.example', '127.0.0.2']), '127.0.0.1', 'ERR_TLS_CERT_ALTNAME_INVALID'],
    ['a certificate from another CA', () => hostCert(['host-1.example'], other), 'host-1.example', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'],
    [
      'a clientAuth-only certificate',
      () => forgeClient({ commonName: 'host-1.example', publicKeyPem: f.keys[0]!.publicKeyPem }),
      'host-1.example',
      'INVALID_PURPOSE',
    ],
  ];
  for (const [what, cert, servername, code] of refusals) {
    it(`refuses a stormd presenting ${what} (${code}) and sends it nothing`, async () => {
      const { client, server } = await dial(cert(), servername);
      expect(client).toMatchObject({ secureConnect: false, reply: '', errorCode: code });
      expect(server.filter((e) => e.kind === 'data')).toEqual([]);
    });
  }

  it('with a role, refuses a server of the right name without it (a host posing as the manager to a host)', async () => {
    const host = f.ca.issueHostCertificate(csrFor(f.keys[0]!.privateKeyPem), { hostName: 'storm.local' });
    const { client, server } = await dial(host, 'storm.local', undefined, 'manager');
    expect(client).toMatchObject({ secureConnect: false, reply: '', errorCode: 'MGR_ERR_PKI_PEER_REJECTED' });
    expect(server.filter((e) => e.kind === 'data')).toEqual([]);
    const real = f.ca.issueServerCertificate({ publicKeyPem: f.keys[0]!.publicKeyPem, names: ['storm.local'], role: 'manager' });
    expect((await dial(real, 'storm.local', undefined, 'manager')).client.reply).toBe('pong');
  });

  it('refuses a stormd whose certificate is revoked when given the CRL', async () => {
    const cert = hostCert(['host-1.example']);
    const crl = f.ca.buildCrl([{ serial: cert.serial, revokedAt: new Date() }], 1);
    expect((await dial(cert, 'host-1.example', crl)).client).toMatchObject({ secureConnect: false, errorCode: 'CERT_REVOKED' });
  });
});
