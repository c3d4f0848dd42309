import { describe, expect, it } from 'vitest';
import { guestDirectoryInfo, LDAP_SEED_PATH, serviceAccountSeed } from './seed.js';

describe('serviceAccountSeed', () => {
  it('writes one root-only file with the server, the tree and the bind account', () => {
    const files = serviceAccountSeed(
      { name: 'mx1', owner: 'i-1', description: null, createdAt: '2025-01-01T00:00:00.000Z', password: 'generated-secret' },
      { uri: 'ldap://storm.local:389', baseDn: 'dc=storm,dc=internal' },
    );
    expect(Object.keys(files)).toEqual([LDAP_SEED_PATH]);
    const file = files[LDAP_SEED_PATH]!;
    expect(file.mode).toBe(0o600);
    expect(JSON.parse(Buffer.from(file.contentBase64, 'base64').toString())).toEqual({
      uri: 'ldap://storm.local:389',
      base: 'dc=storm,dc=internal',
      people: 'ou=people,dc=storm,dc=internal',
      groups: 'ou=groups,dc=storm,dc=internal',
      bindDn: 'cn=mx1,ou=services,dc=storm,dc=internal',
      bindPassword: 'generated-secret',
    });
  });

  it('gives getConfig the same details without the password, and where to find it', () => {
    expect(guestDirectoryInfo('mx1', { uri: 'ldap://storm.local:389', baseDn: 'dc=storm,dc=internal' })).toEqual({
      uri: 'ldap://storm.local:389',
      base: 'dc=storm,dc=internal',
      people: 'ou=people,dc=storm,dc=internal',
      groups: 'ou=groups,dc=storm,dc=internal',
      bindDn: 'cn=mx1,ou=services,dc=storm,dc=internal',
      bindPasswordFile: '/etc/storm/ldap.json',
    });
  });
});
