import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCsr } from './csr.js';
import { issueLibvirtBundle } from './libvirt-bundle.js';
import { certificatePolicies, derToOid, hasRole, oidToDer, publicKeyPin, ROLE_OIDS, rolesOf } from './roles.js';
import { pkiFixture, type PkiFixture } from './test-support/fixtures.js';

let f: PkiFixture;
let dir: string;
beforeAll(async () => {
  f = await pkiFixture(2);
  dir = await mkdtemp(join(tmpdir(), 'storm-roles-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('roles', () => {
  it('the manager role goes where the caller asks; a certificate from a CSR only ever gets the host role', async () => {
    const manager = f.ca.issueClientCertificate({ publicKeyPem: f.keys[0]!.publicKeyPem, role: 'manager' });
    expect(certificatePolicies(manager.certPem)).toEqual([ROLE_OIDS.manager]);
    expect(rolesOf(manager.certPem)).toEqual(['manager']);
    // Whatever name it asks for, a host is a host.
    const host = f.ca.issueHostCertificate(createCsr(f.keys[1]!.privateKeyPem, 'storm-manager'), {
      hostName: 'storm-manager',
      altNames: ['storm.local'],
    });
    expect(rolesOf(host.certPem)).toEqual(['host']);
    expect(hasRole(host.certPem, 'manager')).toBe(false);
    expect(rolesOf(f.ca.issueClientCertificate({ publicKeyPem: f.keys[0]!.publicKeyPem }).certPem)).toEqual([]);
    const bundle = await issueLibvirtBundle(f.ca, { hostName: 'host-1' });
    expect(rolesOf(bundle.servercert)).toEqual(['host']);
    expect(rolesOf(bundle.clientcert)).toEqual([]);
  });

  it('reads the role of an ECDSA certificate (the guests listener), which forge cannot parse', () => {
    const { certPem } = f.ca.issueEcServerCertificate(['storm.local'], { role: 'manager' });
    expect(rolesOf(certPem)).toEqual(['manager']);
  });

  it('is checked by OpenSSL clients with -policy and -explicit_policy, as tiny-os guests do', async () => {
    const ca = join(dir, 'ca.pem');
    await writeFile(ca, f.ca.certPem);
    const verify = async (pem: string): Promise<string> => {
      const file = join(dir, 'leaf.pem');
      await writeFile(file, pem);
      try {
        return execFileSync(
          'openssl',
          ['verify', '-CAfile', ca, '-policy', ROLE_OIDS.manager, '-explicit_policy', '-verify_hostname', 'storm.local', file],
          { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
        );
      } catch (err) {
        return String((err as { stdout?: string; stderr?: string }).stderr ?? err);
      }
    };
    expect(await verify(f.ca.issueEcServerCertificate(['storm.local'], { role: 'manager' }).certPem)).toContain(': OK');
    const host = f.ca.issueHostCertificate(createCsr(f.keys[1]!.privateKeyPem, 'x'), { hostName: 'storm.local' });
    expect(await verify(host.certPem)).toMatch(/no explicit policy/);
  });

  it('pins a key, not a certificate: two certificates for one key pin the same', () => {
    const a = f.ca.issueClientCertificate({ publicKeyPem: f.keys[0]!.publicKeyPem, role: 'manager' });
    const b = f.ca.issueClientCertificate({ publicKeyPem: f.keys[0]!.publicKeyPem, role: 'manager' });
    const c = f.ca.issueClientCertificate({ publicKeyPem: f.keys[1]!.publicKeyPem, role: 'manager' });
    expect(publicKeyPin(a.certPem)).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(publicKeyPin(a.certPem)).toBe(publicKeyPin(b.certPem));
    expect(publicKeyPin(a.certPem)).not.toBe(publicKeyPin(c.certPem));
  });

  it('reads no role from bytes that are not a certificate', () => {
    expect(rolesOf(Buffer.from('not der'))).toEqual([]);
  });
});

describe('OIDs of any size', () => {
  it('encodes and decodes like OpenSSL, 128-bit arcs included', () => {
    const out = join(dir, 'oid.der');
    execFileSync('openssl', ['asn1parse', '-genstr', `OID:${ROLE_OIDS.manager}`, '-out', out, '-noout']);
    expect(Buffer.from(oidToDer(ROLE_OIDS.manager), 'binary').equals(readFileSync(out).subarray(2))).toBe(true);
    for (const oid of [ROLE_OIDS.host, '2.5.29.32', '1.3.6.1.5.5.7.3.2', '0.9.2342']) expect(derToOid(oidToDer(oid))).toBe(oid);
  });
});
