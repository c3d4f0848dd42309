import { beforeAll, describe, expect, it } from 'vitest';
import { pkiFixture, type PkiFixture } from '../../../trust/test-support/fixtures.js';
import { StormdErr } from '../errors.js';
import { readCrl } from './crl-info.js';

let f: PkiFixture;
let other: PkiFixture;
beforeAll(async () => {
  [f, other] = await Promise.all([pkiFixture(0), pkiFixture(0)]);
});

describe('readCrl', () => {
  it('reads the number, times and revoked serials of a CRL the CA signed', () => {
    const crl = f.ca.buildCrl(
      [
        { serial: '00:AB:01', revokedAt: new Date() },
        { serial: 'ff', revokedAt: new Date() },
      ],
      42,
    );
    const info = readCrl(crl, f.ca.certPem);
    expect(info.crlNumber).toBe(42);
    expect(info.revokedSerials).toEqual(['ff', 'ab01']);
    expect(info.nextUpdate!.getTime()).toBeGreaterThan(info.thisUpdate.getTime());
  });

  it('reads an empty CRL (no revoked list at all)', () => {
    expect(readCrl(f.ca.buildCrl([], 1), f.ca.certPem)).toMatchObject({ crlNumber: 1, revokedSerials: [] });
  });

  it('refuses a CRL another CA signed, and garbage', () => {
    expect(() => readCrl(other.ca.buildCrl([], 9), f.ca.certPem)).toThrow(/not signed by the CA/);
    const err = (() => {
      try {
        readCrl('-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n', f.ca.certPem);
      } catch (e) {
        return e;
      }
    })();
    expect(StormdErr.STORMD_ERR_IDENTITY_INVALID.is(err)).toBe(true);
  });
});
