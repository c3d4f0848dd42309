import { describe, expect, it } from 'vitest';
import { baseDnFromDomain, escapeDnValue, groupDn, serviceDn, userDn } from './layout.js';

describe('directory layout', () => {
  it('derives the base DN from the instance zone', () => {
    expect(baseDnFromDomain('storm.internal')).toBe('dc=storm,dc=internal');
    expect(baseDnFromDomain('Lab.Example.ORG.')).toBe('dc=lab,dc=example,dc=org');
    expect(baseDnFromDomain('')).toBe('dc=storm,dc=internal');
  });

  it('places users, groups and service accounts under their ou', () => {
    const base = 'dc=storm,dc=internal';
    expect(userDn(base, 'alice')).toBe('uid=alice,ou=people,dc=storm,dc=internal');
    expect(groupDn(base, 'mail')).toBe('cn=mail,ou=groups,dc=storm,dc=internal');
    expect(serviceDn(base, 'mx1')).toBe('cn=mx1,ou=services,dc=storm,dc=internal');
  });

  it('escapes RFC 4514 specials', () => {
    expect(escapeDnValue('a,b+c"d\\e<f>g;h=i')).toBe('a\\,b\\+c\\"d\\\\e\\<f\\>g\\;h\\=i');
    expect(escapeDnValue(' #lead trail ')).toBe('\\ #lead trail\\ ');
    expect(escapeDnValue('#x')).toBe('\\#x');
  });
});
