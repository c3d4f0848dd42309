import { describe, expect, it } from 'vitest';
import { makeEntry } from './entry.js';
import type { Filter } from './filter.js';
import { compileFilter } from './match.js';

const alice = makeEntry('uid=alice,ou=people,dc=storm,dc=internal', {
  objectClass: ['top', 'inetOrgPerson', 'posixAccount'],
  uid: 'alice',
  cn: 'Alice  Liddell',
  sn: 'Liddell',
  mail: 'Alice@Storm.Internal',
  uidNumber: 10000,
  gidNumber: 100,
  homeDirectory: '/home/Alice',
  memberOf: ['cn=mail,ou=groups,dc=storm,dc=internal'],
});
const run = (filter: Filter) => compileFilter(filter)(alice);
const eq = (attribute: string, value: string | null): Filter => ({ type: 'equal', attribute, value });

describe('compileFilter', () => {
  it('matches equality without regard to the case of names, and of values where the rule says so', () => {
    expect(run(eq('UID', 'ALICE'))).toBe(true);
    expect(run(eq('mail', 'alice@storm.internal'))).toBe(true);
    expect(run(eq('objectclass', 'INETORGPERSON'))).toBe(true);
    expect(run(eq('cn', ' alice liddell '))).toBe(true);
    // homeDirectory is caseExactIA5Match (RFC 2307).
    expect(run(eq('homeDirectory', '/home/Alice'))).toBe(true);
    expect(run(eq('homeDirectory', '/home/alice'))).toBe(false);
    expect(run(eq('userid', 'alice'))).toBe(true);
    expect(run(eq('0.9.2342.19200300.100.1.1', 'alice'))).toBe(true);
  });

  it('compares integers as numbers and DNs as DNs', () => {
    expect(run(eq('uidNumber', '010000'))).toBe(true);
    expect(run(eq('uidNumber', 'ten'))).toBeUndefined();
    expect(run({ type: 'ge', attribute: 'uidNumber', value: '9999' })).toBe(true);
    expect(run({ type: 'le', attribute: 'uidNumber', value: '9999' })).toBe(false);
    expect(run({ type: 'ge', attribute: 'uidNumber', value: '99999999999999999999' })).toBe(false);
    expect(run(eq('memberOf', 'CN=Mail, OU=Groups, DC=storm, DC=internal'))).toBe(true);
    expect(run(eq('memberOf', 'not a dn'))).toBeUndefined();
    expect(run({ type: 'ge', attribute: 'memberOf', value: 'cn=a' })).toBeUndefined();
  });

  it('matches substrings in order, never overlapping', () => {
    const sub = (initial: string | undefined, any: string[], final: string | undefined): Filter => ({
      type: 'substrings',
      attribute: 'mail',
      initial,
      any,
      final,
    });
    expect(run(sub('ali', [], undefined))).toBe(true);
    expect(run(sub(undefined, [], '@storm.internal'))).toBe(true);
    expect(run(sub('a', ['storm'], 'internal'))).toBe(true);
    expect(run(sub(undefined, ['internal', 'storm'], undefined))).toBe(false);
    expect(run(sub('alice@storm.internal', [], 'internal'))).toBe(false);
    expect(run({ type: 'substrings', attribute: 'uidNumber', initial: '1', any: [], final: undefined })).toBeUndefined();
    // The literal characters of an injection attempt are just characters.
    expect(run(sub(undefined, ['*)(uid=*'], undefined))).toBe(false);
    expect(run(eq('uid', '*'))).toBe(false);
  });

  it('uses three-valued logic: unknown attributes are Undefined, and NOT keeps them Undefined', () => {
    expect(run(eq('nosuchattr', 'x'))).toBeUndefined();
    expect(run({ type: 'not', filter: eq('nosuchattr', 'x') })).toBeUndefined();
    expect(run({ type: 'and', filters: [eq('uid', 'alice'), eq('nosuchattr', 'x')] })).toBeUndefined();
    expect(run({ type: 'or', filters: [eq('uid', 'alice'), eq('nosuchattr', 'x')] })).toBe(true);
    expect(run({ type: 'and', filters: [eq('uid', 'bob'), eq('nosuchattr', 'x')] })).toBe(false);
    expect(run({ type: 'not', filter: eq('givenName', 'x') })).toBe(true);
    expect(run(eq('uid', null))).toBeUndefined();
    expect(run({ type: 'and', filters: [] })).toBe(true);
    expect(run({ type: 'or', filters: [] })).toBe(false);
  });

  it('presence: a known attribute present, absent, unknown, with options', () => {
    expect(run({ type: 'present', attribute: 'MAIL' })).toBe(true);
    expect(run({ type: 'present', attribute: 'givenName' })).toBe(false);
    expect(run({ type: 'present', attribute: 'userPassword' })).toBe(false);
    expect(run({ type: 'present', attribute: 'nosuch' })).toBe(false);
    expect(run(eq('cn;lang-en', 'alice liddell'))).toBe(false);
  });

  it('extensible match with a rule, a type and dnAttributes', () => {
    expect(run({ type: 'extensible', rule: 'caseExactMatch', attribute: 'sn', value: 'Liddell', dnAttributes: false })).toBe(true);
    expect(run({ type: 'extensible', rule: '2.5.13.5', attribute: 'sn', value: 'liddell', dnAttributes: false })).toBe(false);
    expect(run({ type: 'extensible', rule: undefined, attribute: 'sn', value: 'LIDDELL', dnAttributes: false })).toBe(true);
    expect(run({ type: 'extensible', rule: undefined, attribute: 'ou', value: 'people', dnAttributes: true })).toBe(true);
    expect(run({ type: 'extensible', rule: 'caseIgnoreMatch', attribute: undefined, value: 'liddell', dnAttributes: false })).toBe(true);
    expect(run({ type: 'extensible', rule: '1.2.3.4', attribute: 'sn', value: 'x', dnAttributes: false })).toBeUndefined();
  });
});
