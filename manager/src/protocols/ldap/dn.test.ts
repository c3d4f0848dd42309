import { describe, expect, it } from 'vitest';
import { DnError, normalizeDn, parentOf, parseDn } from './dn.js';

describe('DNs', () => {
  it('normalizes case, spaces after separators, aliases and OIDs', () => {
    const want = 'uid=alice,ou=people,dc=storm,dc=internal';
    for (const dn of [
      'uid=alice,ou=people,dc=storm,dc=internal',
      'UID=Alice, OU=People, DC=Storm, DC=Internal',
      'userid=alice,ou=people,dc=storm,dc=internal',
      '0.9.2342.19200300.100.1.1=alice,organizationalUnitName=people,domainComponent=storm,dc=internal',
      'uid = alice , ou=people,dc=storm,dc=internal',
    ]) {
      expect(normalizeDn(dn), dn).toBe(want);
    }
    expect(normalizeDn('')).toBe('');
  });

  it('unescapes hex pairs and specials, and escapes again when formatting', () => {
    expect(parseDn('cn=a\\2cb\\+c\\ ,dc=x')[0]).toEqual([{ type: 'cn', value: 'a,b+c ' }]);
    expect(normalizeDn('CN=Caf\\C3\\A9,dc=x')).toBe('cn=café,dc=x');
    expect(normalizeDn('cn=a\\,b,dc=x')).toBe('cn=a\\,b,dc=x');
    expect(parseDn('cn=a+sn=b,dc=x')[0]).toEqual([
      { type: 'cn', value: 'a' },
      { type: 'sn', value: 'b' },
    ]);
    expect(normalizeDn('sn=b+cn=a,dc=x')).toBe('cn=a+sn=b,dc=x');
  });

  it('refuses what is not a DN', () => {
    for (const dn of ['junk', 'cn=a,,dc=b', '=x', 'cn=', 'cn=a,', 'cn=a+', 'c n=a', 'cn=a\\zz', 'cn="q"', 'cn=#04024869', 'cn=\\c3\\28']) {
      expect(() => parseDn(dn), dn).toThrow(DnError);
    }
  });

  it('finds the parent of a normalized DN', () => {
    expect(parentOf('uid=alice,ou=people,dc=storm,dc=internal')).toBe('ou=people,dc=storm,dc=internal');
    expect(parentOf('dc=internal')).toBe('');
  });
});
