import { beforeAll, describe, expect, it } from 'vitest';
import { readCrl } from './crl-info.js';
import { PkiErr } from './errors.js';
import { pkiFixture, type PkiFixture } from './test-support/fixtures.js';

let f: PkiFixture;
let other: PkiFixture;
beforeAll(async () => {
  [f, other] = await Promise.all([pkiFixture(0), pkiFixture(0)]);
});

const thrown = (run: () => unknown): unknown => {
  try {
    run();
  } catch (err) {
    return err;
  }
  return undefined;
};

describe('readCrl (trust module)', () => {
  it('reads the number of a CRL the CA signed', () => {
    expect(readCrl(f.ca.buildCrl([], 7), f.ca.certPem).crlNumber).toBe(7);
  });

  it("refuses another CA's CRL with MGR_ERR_PKI_CRL_INVALID, or the caller's own error", () => {
    const crl = other.ca.buildCrl([], 9);
    const err = thrown(() => readCrl(crl, f.ca.certPem));
    expect(PkiErr.MGR_ERR_PKI_CRL_INVALID.is(err)).toBe(true);
    expect((err as Error).message).toBe('the CRL is invalid: not signed by the CA');
    expect(thrown(() => readCrl(crl, f.ca.certPem, (why) => new RangeError(why)))).toBeInstanceOf(RangeError);
  });
});
