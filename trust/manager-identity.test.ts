import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateAuthority } from './certificate-authority.js';
import { loadOrIssueManagerIdentity, STORM_LOCAL_NAME } from './manager-identity.js';
import { buildCertificate } from './certificate-builder.js';
import { publicKeyOf } from './keys.js';
import { clientExtensions, validityWindow } from './profiles.js';
import { publicKeyPin, rolesOf } from './roles.js';
import { writeFile } from 'node:fs/promises';
import { pkiFixture, type PkiFixture, DAY_MS } from './test-support/fixtures.js';

let f: PkiFixture;
let dir: string;
beforeAll(async () => {
  f = await pkiFixture(0);
  dir = await mkdtemp(join(tmpdir(), 'storm-identity-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("the manager's own certificates", () => {
  it('are issued on first start: client CN storm-manager, HTTPS for its names plus storm.local; keys 0600', async () => {
    const id = await loadOrIssueManagerIdentity(dir, f.ca, { serverNames: ['manager.example', '10.0.0.1'] });
    const client = new X509Certificate(id.client.certPem);
    expect(client.subject).toBe('O=STORM\nCN=storm-manager');
    expect(client.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']); // Node's name for extKeyUsage
    const https = new X509Certificate(id.https.certPem);
    expect(https.subjectAltName).toBe(`DNS:manager.example, IP Address:10.0.0.1, DNS:${STORM_LOCAL_NAME}`);
    expect(https.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    for (const file of ['manager-client.key', 'manager-https.key']) expect((await stat(join(dir, file))).mode & 0o777).toBe(0o600);
    expect(rolesOf(id.client.certPem)).toEqual(['manager']);
    expect(rolesOf(id.https.certPem)).toEqual(['manager']);
  });

  it('are reissued for the same key when the stored one lacks the manager role (made before roles)', async () => {
    const before = await loadOrIssueManagerIdentity(dir, f.ca, {});
    const signer = f.caSigner;
    const old = buildCertificate({
      commonName: 'storm-manager',
      publicKeyPem: publicKeyOf(before.client.keyPem),
      issuer: signer,
      ...validityWindow(new Date(), 365),
      extensions: clientExtensions(signer.keyIdentifier),
    });
    await writeFile(join(dir, 'manager-client.pem'), old.certPem);
    const after = await loadOrIssueManagerIdentity(dir, f.ca, {});
    expect(after.client.certPem).not.toBe(old.certPem);
    expect(rolesOf(after.client.certPem)).toEqual(['manager']);
    expect(after.client.keyPem).toBe(before.client.keyPem);
  });

  it('are reused while good, and the HTTPS one alone is reissued when the names change', async () => {
    const before = await loadOrIssueManagerIdentity(dir, f.ca, { serverNames: ['manager.example', '10.0.0.1'] });
    const same = await loadOrIssueManagerIdentity(dir, f.ca, { serverNames: ['manager.example', '10.0.0.1'] });
    expect(same).toEqual(before);
    const renamed = await loadOrIssueManagerIdentity(dir, f.ca, { serverNames: ['manager.example', '10.0.0.2'] });
    expect(renamed.client).toEqual(before.client);
    expect(renamed.https.certPem).not.toBe(before.https.certPem);
    expect(renamed.https.keyPem).toBe(before.https.keyPem);
  });

  it('are reissued within 30 days of expiry, or when the CA changed', async () => {
    const before = await loadOrIssueManagerIdentity(dir, f.ca, {});
    const notAfter = Date.parse(new X509Certificate(before.client.certPem).validTo);
    const renewed = await loadOrIssueManagerIdentity(dir, f.ca, { now: new Date(notAfter - 29 * DAY_MS) });
    expect(renewed.client.certPem).not.toBe(before.client.certPem);
    // Same key: hosts pin it (publicKeyPin), so a renewal must not change it.
    expect(renewed.client.keyPem).toBe(before.client.keyPem);
    expect(publicKeyPin(renewed.client.certPem)).toBe(publicKeyPin(before.client.certPem));
    const otherCa = CertificateAuthority.fromPem(await CertificateAuthority.generate());
    const moved = await loadOrIssueManagerIdentity(dir, otherCa, {});
    expect(new X509Certificate(moved.client.certPem).checkIssued(new X509Certificate(otherCa.certPem))).toBe(true);
  });
});
