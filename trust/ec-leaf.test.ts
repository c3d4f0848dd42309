import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateAuthority } from './certificate-authority.js';

let dir: string;
let ca: CertificateAuthority;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'storm-ec-'));
  ca = await CertificateAuthority.loadOrCreate(join(dir, 'pki'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('ECDSA server certificates from the RSA CA', () => {
  it('is an EC P-256 key, signed by the CA, with the names, serverAuth and a correct SKI; openssl verifies it', async () => {
    const { certPem } = ca.issueEcServerCertificate(['storm.local', '10.77.0.1']);
    const x = new X509Certificate(certPem);
    expect(x.publicKey.asymmetricKeyType).toBe('ec');
    expect(x.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
    expect(x.checkHost('storm.local')).toBe('storm.local');
    expect(x.checkIP('10.77.0.1')).toBe('10.77.0.1');
    await writeFile(join(dir, 'leaf.pem'), certPem);
    await writeFile(join(dir, 'ca.pem'), ca.certPem);
    expect(
      execFileSync('openssl', ['verify', '-purpose', 'sslserver', '-CAfile', join(dir, 'ca.pem'), join(dir, 'leaf.pem')]).toString(),
    ).toMatch(/OK/);
    const text = execFileSync('openssl', ['x509', '-in', join(dir, 'leaf.pem'), '-noout', '-text']).toString();
    expect(text).toMatch(/Public Key Algorithm: id-ecPublicKey/);
    expect(text).toMatch(/Digital Signature/);
    expect(text).not.toMatch(/Key Encipherment/);
    const ski = /Subject Key Identifier:\s*\n\s*([0-9A-F:]+)/.exec(text)?.[1];
    const pubkey = execFileSync('openssl', ['x509', '-in', join(dir, 'leaf.pem'), '-noout', '-pubkey']).toString();
    const bits = execFileSync('openssl', ['pkey', '-pubin', '-outform', 'DER'], { input: pubkey }).subarray(-65);
    expect(ski?.replace(/:/g, '').toLowerCase()).toBe(
      execFileSync('openssl', ['dgst', '-sha1', '-hex'], { input: bits }).toString().split('= ')[1]!.trim(),
    );
  });

  it('serves TLS that a client trusting only the CA accepts', async () => {
    const { certPem, keyPem } = ca.issueEcServerCertificate(['storm.local']);
    const server = tls.createServer({ cert: certPem, key: keyPem }, (s) => s.end('hi'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const got = await new Promise<string>((resolve, reject) => {
        const s = tls.connect(
          { port: (server.address() as AddressInfo).port, host: '127.0.0.1', servername: 'storm.local', ca: ca.certPem },
          () => s.once('data', (d: Buffer) => resolve(d.toString())),
        );
        s.once('error', reject);
      });
      expect(got).toBe('hi');
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
