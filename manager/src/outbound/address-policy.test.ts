import { describe, expect, it } from 'vitest';
import { AddressPolicy } from './address-policy.js';

describe('AddressPolicy', () => {
  it('denies loopback, link-local metadata and multicast by default, allows the rest', () => {
    const p = new AddressPolicy();
    expect(p.check('127.0.0.1').allowed).toBe(false);
    expect(p.check('::1').allowed).toBe(false);
    expect(p.check('169.254.169.254')).toMatchObject({ allowed: false, reason: expect.stringMatching(/metadata/) });
    expect(p.check('::ffff:169.254.169.254').allowed).toBe(false);
    expect(p.check('224.0.0.1').allowed).toBe(false);
    expect(p.check('203.0.113.7').allowed).toBe(true);
    expect(p.check('10.1.2.3').allowed).toBe(true);
  });

  it('lets --channel-allow re-open loopback and --channel-deny close more', () => {
    const p = new AddressPolicy({ allow: ['127.0.0.0/8'], deny: ['10.0.0.0/8'] });
    expect(p.check('127.0.0.1').allowed).toBe(true);
    expect(p.check('10.9.9.9').allowed).toBe(false);
    expect(p.check('169.254.169.254').allowed).toBe(false);
  });

  it('rejects non-addresses and bad CIDRs', () => {
    expect(new AddressPolicy().check('example.com').allowed).toBe(false);
    expect(() => new AddressPolicy({ allow: ['127.0.0.0/33'] })).toThrow(/CIDR/);
    expect(() => AddressPolicy.validate(['nope'])).toThrow(/CIDR/);
  });
});
