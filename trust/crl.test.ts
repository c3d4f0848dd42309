import { beforeAll, describe, expect, it } from 'vitest';
import { pkiFixture, type PkiFixture } from './test-support/fixtures.js';
import { openssl } from './test-support/openssl.js';

let f: PkiFixture;
beforeAll(async () => {
  f = await pkiFixture(0);
});

/** `openssl crl -text`, checking the signature against the CA. */
async function crlText(crlPem: string): Promise<{ code: number; output: string }> {
  return openssl(['crl', '-in', '{crl.pem}', '-noout', '-text', '-CAfile', '{ca.pem}'], { 'crl.pem': crlPem, 'ca.pem': f.ca.certPem });
}

describe('CRLs', () => {
  it('are v2, signed by the CA (openssl: verify OK), with CRL number, AKI and every revoked serial', async () => {
    const revokedAt = new Date('2030-01-02T03:04:05Z');
    const crl = f.ca.buildCrl(
      [
        { serial: 'ff01', revokedAt },
        { serial: '0A:0B', revokedAt },
        { serial: 'FF01', revokedAt: new Date('2031-01-01T00:00:00Z') }, // the same serial again: listed once, earliest date
      ],
      42,
    );
    expect(crl).toMatch(/^-----BEGIN X509 CRL-----\r?\n/);
    const { code, output } = await crlText(crl);
    expect(code, output).toBe(0);
    expect(output).toContain('verify OK');
    expect(output).toContain('Version 2 (0x1)');
    expect(output).toContain('Signature Algorithm: sha256WithRSAEncryption');
    expect(output).toContain('Issuer: O = STORM, CN = STORM CA test');
    expect(output).toMatch(/X509v3 CRL Number: \s*42/);
    expect(output).toMatch(/X509v3 Authority Key Identifier: \s*[0-9A-F:]{59}/);
    expect(output.match(/Serial Number: (\w+)/g)).toEqual(['Serial Number: 0A0B', 'Serial Number: FF01']);
    expect(output.match(/Revocation Date: .*/g)).toEqual([
      'Revocation Date: Jan  2 03:04:05 2030 GMT',
      'Revocation Date: Jan  2 03:04:05 2030 GMT',
    ]);
  });

  it('backdate thisUpdate for clock skew and run 30 days by default', async () => {
    const now = new Date('2030-06-01T12:00:00Z');
    const { output } = await crlText(f.ca.withClock(() => now).buildCrl([], 1));
    expect(output).toContain('Last Update: Jun  1 11:55:00 2030 GMT');
    expect(output).toContain('Next Update: Jul  1 12:00:00 2030 GMT');
    const { output: week } = await crlText(f.ca.withClock(() => now).buildCrl([], 2, { validityDays: 7 }));
    expect(week).toContain('Next Update: Jun  8 12:00:00 2030 GMT');
  });

  it('leave out an empty revoked list, as RFC 5280 asks', async () => {
    const { code, output } = await crlText(f.ca.buildCrl([], 0));
    expect(code, output).toBe(0);
    expect(output).toContain('No Revoked Certificates.');
  });

  it('use GeneralizedTime from 2050 on', async () => {
    const crl = f.ca
      .withClock(() => new Date(Date.UTC(2049, 11, 20)))
      .buildCrl([{ serial: '1', revokedAt: new Date(Date.UTC(2050, 0, 2)) }], 1);
    const { code, output } = await crlText(crl);
    expect(code, output).toBe(0);
    expect(output).toContain('Next Update: Jan 19 00:00:00 2050 GMT');
    expect(output).toContain('Revocation Date: Jan  2 00:00:00 2050 GMT');
    const { output: der } = await openssl(['asn1parse', '-in', '{crl.pem}'], { 'crl.pem': crl });
    // thisUpdate (2049) stays UTCTime; nextUpdate and the revocation date (2050) are GeneralizedTime.
    expect(der.match(/(UTCTIME|GENERALIZEDTIME) *:\S+/g)).toEqual([
      'UTCTIME           :491219235500Z',
      'GENERALIZEDTIME   :20500119000000Z',
      'GENERALIZEDTIME   :20500102000000Z',
    ]);
  });

  it('refuse bad serials and CRL numbers', () => {
    expect(() => f.ca.buildCrl([{ serial: 'not-hex', revokedAt: new Date() }], 1)).toThrow(
      expect.objectContaining({ code: 'MGR_ERR_PKI_SERIAL_INVALID' }),
    );
    expect(() => f.ca.buildCrl([], -1)).toThrow(RangeError);
    expect(() => f.ca.buildCrl([], 1.5)).toThrow(RangeError);
  });
});
