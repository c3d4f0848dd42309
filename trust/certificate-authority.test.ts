import { createPrivateKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import forge from 'node-forge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateAuthority } from './certificate-authority.js';
import { buildCertificate, signerFromPem } from './certificate-builder.js';
import { createCsr } from './csr.js';
import { CLOCK_SKEW_MS, MANAGER_COMMON_NAME, clientExtensions, validityWindow } from './profiles.js';
import { DAY_MS, pkiFixture, type PkiFixture } from './test-support/fixtures.js';
import { openssl } from './test-support/openssl.js';

let f: PkiFixture;
let tmp: string;
beforeAll(async () => {
  f = await pkiFixture(3);
  tmp = await mkdtemp(join(tmpdir(), 'storm-ca-'));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

/** `openssl x509 -noout -ext …` of a certificate. */
async function extensions(certPem: string, exts = 'basicConstraints,keyUsage,extendedKeyUsage,subjectAltName'): Promise<string> {
  const { code, output } = await openssl(['x509', '-in', '{c.pem}', '-noout', '-subject', '-ext', exts], { 'c.pem': certPem });
  expect(code, output).toBe(0);
  return output.replace(/\s+/g, ' ').trim();
}

describe('the CA certificate', () => {
  it('is a self-signed RSA-3072 root: CA:TRUE and keyCertSign+cRLSign, both critical, with an SKI, for 10 years', async () => {
    const out = await extensions(f.ca.certPem, 'basicConstraints,keyUsage,subjectKeyIdentifier');
    expect(out).toMatch(
      /subject=O = STORM, CN = STORM CA test X509v3 Basic Constraints: critical CA:TRUE X509v3 Key Usage: critical Certificate Sign, CRL Sign X509v3 Subject Key Identifier: [0-9A-F:]{59}$/,
    );
    const x = new X509Certificate(f.ca.certPem);
    expect(x.publicKey.asymmetricKeyDetails?.modulusLength).toBe(3072);
    const years = (Date.parse(x.validTo) - Date.parse(x.validFrom)) / (365 * DAY_MS);
    expect(years).toBeGreaterThan(9.99);
    expect(years).toBeLessThan(10.01);
    const { code, output } = await openssl(['verify', '-CAfile', '{ca.pem}', '{ca.pem}'], { 'ca.pem': f.ca.certPem });
    expect(code, output).toBe(0);
  });
});

describe('CertificateAuthority.loadOrCreate', () => {
  it('creates the CA on first start and loads the same one after', async () => {
    const dir = join(tmp, 'idempotent');
    const first = await CertificateAuthority.loadOrCreate(dir);
    const second = await CertificateAuthority.loadOrCreate(dir);
    expect(second.fingerprint).toBe(first.fingerprint);
    expect(await readFile(join(dir, 'ca.pem'), 'utf8')).toBe(first.certPem);
  });

  it('refuses a mismatched pair and never replaces it', async () => {
    const dir = join(tmp, 'mismatch');
    const ca = await CertificateAuthority.loadOrCreate(dir);
    await writeFile(join(dir, 'ca.key'), f.caMaterial.keyPem);
    await expect(CertificateAuthority.loadOrCreate(dir)).rejects.toThrow(expect.objectContaining({ code: 'MGR_ERR_PKI_CA_KEY_MISMATCH' }));
    expect(await readFile(join(dir, 'ca.pem'), 'utf8')).toBe(ca.certPem);
    expect(await readFile(join(dir, 'ca.key'), 'utf8')).toBe(f.caMaterial.keyPem);
  });

  it('refuses corrupt files, a leaf posing as the CA, and a non-RSA key', async () => {
    const invalid = expect.objectContaining({ code: 'MGR_ERR_PKI_CA_INVALID' });
    expect(() => CertificateAuthority.fromPem({ certPem: 'garbage', keyPem: f.caMaterial.keyPem })).toThrow(invalid);
    expect(() => CertificateAuthority.fromPem({ certPem: f.ca.certPem, keyPem: 'garbage' })).toThrow(invalid);
    const leaf = f.ca.issueClientCertificate({ publicKeyPem: f.keys[0]!.publicKeyPem });
    expect(() => CertificateAuthority.fromPem({ certPem: leaf.certPem, keyPem: f.keys[0]!.privateKeyPem })).toThrow(/not a CA certificate/);
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => CertificateAuthority.fromPem({ certPem: f.ca.certPem, keyPem: ec })).toThrow(/signs with RSA/);
    // A root that may sign certificates but not CRLs could never publish a revocation.
    const noCrlSign = buildCertificate({
      commonName: 'no cRLSign',
      publicKeyPem: f.keys[0]!.publicKeyPem,
      issuer: { selfSignedWith: forge.pki.privateKeyFromPem(f.keys[0]!.privateKeyPem) },
      ...validityWindow(new Date(), 30),
      extensions: [
        { name: 'basicConstraints', cA: true, critical: true },
        { name: 'keyUsage', keyCertSign: true, critical: true },
        { name: 'subjectKeyIdentifier' },
      ],
    });
    expect(() => CertificateAuthority.fromPem({ certPem: noCrlSign.certPem, keyPem: f.keys[0]!.privateKeyPem })).toThrow(/keyUsage/);
  });
});

describe('issued certificates', () => {
  it("the manager's client certificate: CN storm-manager, clientAuth only, CA:FALSE, verifies for sslclient but not sslserver", async () => {
    const cert = f.ca.issueClientCertificate({ publicKeyPem: f.keys[0]!.publicKeyPem });
    expect(await extensions(cert.certPem)).toBe(
      'subject=O = STORM, CN = storm-manager X509v3 Basic Constraints: critical CA:FALSE X509v3 Key Usage: critical Digital Signature, Key Encipherment X509v3 Extended Key Usage: TLS Web Client Authentication',
    );
    const files = { 'ca.pem': f.ca.certPem, 'c.pem': cert.certPem };
    expect((await openssl(['verify', '-purpose', 'sslclient', '-CAfile', '{ca.pem}', '{c.pem}'], files)).code).toBe(0);
    expect((await openssl(['verify', '-purpose', 'sslserver', '-CAfile', '{ca.pem}', '{c.pem}'], files)).output).toMatch(
      /unsuitable certificate purpose/,
    );
  });

  it('a host certificate from a CSR: the CA picks subject and SANs, ignores what the CSR asks, and openssl verifies it', async () => {
    // The host asks for CA:TRUE and a wildcard SAN under another name; none of it may reach the certificate.
    const key = forge.pki.privateKeyFromPem(f.keys[1]!.privateKeyPem);
    const csr = forge.pki.certificationRequestFromPem(createCsr(f.keys[1]!.privateKeyPem, 'evil.example'));
    csr.setAttributes([
      {
        name: 'extensionRequest',
        extensions: [
          { name: 'basicConstraints', cA: true },
          { name: 'subjectAltName', altNames: [{ type: 2, value: '*.example' }] },
        ],
      },
    ]);
    csr.sign(key, forge.md.sha256.create());
    const cert = f.ca.issueHostCertificate(forge.pki.certificationRequestToPem(csr), {
      hostName: 'host-1.example',
      altNames: ['10.0.0.5'],
    });
    expect(await extensions(cert.certPem)).toBe(
      'subject=O = STORM, CN = host-1.example X509v3 Basic Constraints: critical CA:FALSE X509v3 Key Usage: critical Digital Signature, Key Encipherment X509v3 Extended Key Usage: TLS Web Server Authentication, TLS Web Client Authentication X509v3 Subject Alternative Name: DNS:host-1.example, IP Address:10.0.0.5',
    );
    const { code, output } = await openssl(['verify', '-purpose', 'sslserver', '-CAfile', '{ca.pem}', '{host.pem}'], {
      'ca.pem': f.ca.certPem,
      'host.pem': cert.certPem,
    });
    expect(code, output).toBe(0);
    expect(output).toContain('host.pem: OK');
    expect(new X509Certificate(cert.certPem).checkPrivateKey(createPrivateKey(f.keys[1]!.privateKeyPem))).toBe(true);
  });

  it('authorityKeyIdentifier equals the CA subjectKeyIdentifier, and serials are what openssl reads', async () => {
    const cert = f.ca.issueServerCertificate({ publicKeyPem: f.keys[0]!.publicKeyPem, names: ['storm.local'] });
    const ski = (await extensions(f.ca.certPem, 'subjectKeyIdentifier')).split(': ').pop();
    expect(await extensions(cert.certPem, 'authorityKeyIdentifier')).toContain(ski);
    const { output } = await openssl(['x509', '-in', '{c.pem}', '-noout', '-serial'], { 'c.pem': cert.certPem });
    expect(BigInt(`0x${output.trim().split('=')[1]}`).toString(16)).toBe(cert.serial);
  });

  it('are backdated for clock skew, last a year, and never outlive the CA', () => {
    const now = new Date('2030-06-01T12:00:00Z');
    const cert = f.ca.withClock(() => now).issueClientCertificate({ publicKeyPem: f.keys[0]!.publicKeyPem });
    expect(cert.notBefore.getTime()).toBe(now.getTime() - CLOCK_SKEW_MS);
    expect(cert.notAfter.getTime()).toBe(now.getTime() + 365 * DAY_MS);
    expect(new X509Certificate(cert.certPem).validFrom).toBe('Jun  1 11:55:00 2030 GMT');
    const late = f.ca
      .withClock(() => new Date(f.ca.notAfter.getTime() - 10 * DAY_MS))
      .issueClientCertificate({ publicKeyPem: f.keys[0]!.publicKeyPem });
    expect(late.notAfter.getTime()).toBe(f.ca.notAfter.getTime());
  });

  it('are not issued by an expired CA', () => {
    const after = f.ca.withClock(() => new Date(f.ca.notAfter.getTime() + 1000));
    expect(() => after.issueClientCertificate({ publicKeyPem: f.keys[0]!.publicKeyPem })).toThrow(/the CA expired on/);
  });

  it('refuse names that are not host names or addresses', () => {
    expect(() => f.ca.issueServerCertificate({ publicKeyPem: f.keys[0]!.publicKeyPem, names: ['*.example'] })).toThrow(
      expect.objectContaining({ code: 'MGR_ERR_PKI_NAME_INVALID' }),
    );
  });

  it('openssl refuses a chain where a leaf of ours signs (invalid CA certificate), the cause the TLS matrix sees', async () => {
    const leaf = f.ca.issueClientCertificate({ publicKeyPem: f.keys[2]!.publicKeyPem, commonName: 'storm-libvirt-client' });
    const rogue = signerFromPem(leaf.certPem, f.keys[2]!.privateKeyPem);
    const forged = buildCertificate({
      commonName: MANAGER_COMMON_NAME,
      publicKeyPem: f.keys[1]!.publicKeyPem,
      issuer: rogue,
      ...validityWindow(new Date(), 30),
      extensions: clientExtensions(rogue.keyIdentifier),
    });
    const { code, output } = await openssl(
      ['verify', '-purpose', 'sslclient', '-CAfile', '{ca.pem}', '-untrusted', '{leaf.pem}', '{forged.pem}'],
      {
        'ca.pem': f.ca.certPem,
        'leaf.pem': leaf.certPem,
        'forged.pem': forged.certPem,
      },
    );
    expect(code).not.toBe(0);
    expect(output).toMatch(/error 79 at 1 depth lookup: invalid CA certificate/);
  });
});
