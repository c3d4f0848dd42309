import { X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { certificateFingerprint, fingerprintBytes, fingerprintFromBytes } from './fingerprint.js';
import { pkiFixture, type PkiFixture } from './test-support/fixtures.js';
import { openssl } from './test-support/openssl.js';

let f: PkiFixture;
beforeAll(async () => {
  f = await pkiFixture(0);
});

describe('certificate fingerprints', () => {
  it("are sha256:<hex> of the DER, agreeing with Node's and openssl's", async () => {
    const fp = certificateFingerprint(f.ca.certPem);
    expect(fp).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(fp).toBe(f.ca.fingerprint);
    expect(fp.slice(7)).toBe(new X509Certificate(f.ca.certPem).fingerprint256.replaceAll(':', '').toLowerCase());
    const { output } = await openssl(['x509', '-in', '{ca.pem}', '-noout', '-fingerprint', '-sha256'], { 'ca.pem': f.ca.certPem });
    expect(output.trim().split('=')[1]!.replaceAll(':', '').toLowerCase()).toBe(fp.slice(7));
    expect(certificateFingerprint(new X509Certificate(f.ca.certPem).raw)).toBe(fp);
  });

  it('convert to and from the 32 digest bytes, refusing other forms', () => {
    const fp = f.ca.fingerprint;
    expect(fingerprintFromBytes(fingerprintBytes(fp))).toBe(fp);
    for (const bad of ['', fp.toUpperCase(), fp.slice(0, -1), `sha1:${fp.slice(7)}`, fp.replace('sha256:', '')]) {
      expect(() => fingerprintBytes(bad), bad).toThrow(expect.objectContaining({ code: 'MGR_ERR_PKI_FINGERPRINT_INVALID' }));
    }
    expect(() => fingerprintFromBytes(Buffer.alloc(20))).toThrow(expect.objectContaining({ code: 'MGR_ERR_PKI_FINGERPRINT_INVALID' }));
  });
});
