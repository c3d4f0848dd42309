import { describe, expect, it } from 'vitest';
import { checkServiceName, classifyPrincipal, instancePrincipals, realmOf } from './realm.js';

describe('realm names', () => {
  it('derives the realm from the appliance domain', () => {
    expect(realmOf('storm.internal')).toBe('STORM.INTERNAL');
    expect(realmOf('lab.example.org')).toBe('LAB.EXAMPLE.ORG');
  });

  it('gives every instance host/<fqdn> first, then its declared services once each', () => {
    expect(instancePrincipals('web1.storm.internal')).toEqual(['host/web1.storm.internal']);
    expect(instancePrincipals('mx1.storm.internal', ['smtp', 'imap', 'smtp'])).toEqual([
      'host/mx1.storm.internal',
      'smtp/mx1.storm.internal',
      'imap/mx1.storm.internal',
    ]);
  });

  it('refuses service names that are not names or that belong to the KDC', () => {
    expect(checkServiceName('HTTP')).toBe('HTTP');
    for (const bad of ['', 'a b', 'x/y', 'HTTP@X', '1abc', 'host', 'krbtgt', 'kadmin', 'K', 'a'.repeat(33)])
      expect(() => checkServiceName(bad), bad).toThrow(/MGR_ERR_VALIDATION|Kerberos service/);
  });

  it('tells users, instances and the KDC apart', () => {
    expect(classifyPrincipal('alice@STORM.INTERNAL')).toEqual({ kind: 'user', uid: 'alice' });
    expect(classifyPrincipal('HTTP/web1.storm.internal@STORM.INTERNAL')).toEqual({
      kind: 'instance',
      service: 'HTTP',
      fqdn: 'web1.storm.internal',
    });
    for (const p of ['K/M@STORM.INTERNAL', 'krbtgt/STORM.INTERNAL@STORM.INTERNAL', 'kadmin/admin@STORM.INTERNAL'])
      expect(classifyPrincipal(p)).toEqual({ kind: 'kdc' });
  });
});
