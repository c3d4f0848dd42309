/**
 * The LDAP server against OpenLDAP's own clients (`ldapsearch`, `ldapwhoami`, `ldapcompare`,
 * `ldapadd`, `ldapdelete`, `ldappasswd` from Debian's ldap-utils), none of our code on the client
 * side: good and bad binds, anonymous refusal, Postfix-style lookups, filters, filter injection,
 * writes refused. Passwords are hashed at the production cost. Loopback only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDirectory, PASSWORDS, populate, type TestDirectory } from '../../manager/src/directory/test-support/fixtures.js';
import { LdapServer } from '../../manager/src/protocols/ldap/server.js';
import { ldapTool, parseLdif } from '../../manager/src/protocols/ldap/test-support/openldap-tools.js';
import { haveCommand } from '../harness/netns.js';

const BASE = 'dc=storm,dc=internal';
const ALICE = `uid=alice,ou=people,${BASE}`;
const MX1 = `cn=mx1,ou=services,${BASE}`;

describe.skipIf(!haveCommand('ldapsearch') || !haveCommand('ldapwhoami'))('LDAP with the OpenLDAP clients', () => {
  let t: TestDirectory;
  let server: LdapServer;
  let url: string;
  let mx1: string;

  beforeAll(async () => {
    t = await openTestDirectory();
    ({ mx1 } = await populate(t.store));
    server = new LdapServer({ listen: '127.0.0.1:0' }, { directory: t.store });
    await server.start();
    url = `ldap://127.0.0.1:${server.address.port}`;
  });
  afterAll(async () => {
    await server?.close();
    await t?.close();
  });

  const whoami = (...args: string[]) => ldapTool('ldapwhoami', ['-x', '-H', url, ...args]);
  /** ldapsearch bound as `dn`, LDIF without comments or wrapping. */
  const search = (dn: string, password: string, base: string, ...args: string[]) =>
    ldapTool('ldapsearch', ['-LLL', '-o', 'ldif-wrap=no', '-x', '-H', url, '-D', dn, '-w', password, '-b', base, ...args]);
  const asAlice = (...args: string[]) => search(ALICE, PASSWORDS.alice, BASE, ...args);
  const dns = async (...args: string[]) => {
    const r = await asAlice(...args);
    expect(r.code, r.stderr).toBe(0);
    return parseLdif(r.stdout).map((e) => e.dn);
  };

  describe('bind', () => {
    it('ldapwhoami: a good bind works, for a user and for an appliance service account', async () => {
      expect(await whoami('-D', ALICE, '-w', PASSWORDS.alice)).toMatchObject({ code: 0, stdout: `dn:${ALICE}\n` });
      expect(await whoami('-D', 'UID=alice, OU=people, DC=storm, DC=internal', '-w', PASSWORDS.alice)).toMatchObject({
        code: 0,
        stdout: `dn:${ALICE}\n`,
      });
      expect(await whoami('-D', MX1, '-w', mx1)).toMatchObject({ code: 0, stdout: `dn:${MX1}\n` });
    });

    it('a wrong password and an unknown DN are both refused with invalidCredentials (49)', async () => {
      const wrong = await whoami('-D', ALICE, '-w', 'not-her-password');
      const unknown = await whoami('-D', `uid=mallory,ou=people,${BASE}`, '-w', 'not-her-password');
      expect([wrong.code, unknown.code]).toEqual([49, 49]);
      expect(wrong.stderr).toContain('Invalid credentials (49)');
      // Same answer for both: nothing tells an attacker which accounts exist.
      expect(unknown.stderr).toBe(wrong.stderr);
    });

    it('an anonymous bind is refused: no -D at all (48), and a DN with an empty password (53)', async () => {
      const anonymous = await whoami();
      expect(anonymous.code).toBe(48);
      expect(anonymous.stderr).toContain('Inappropriate authentication (48)');
      // RFC 4513 §5.1.2: a DN with an empty password is an "unauthenticated bind", which must not pass as a login.
      const unauthenticated = await whoami('-D', ALICE, '-w', '');
      expect(unauthenticated.code).toBe(53);
      expect(unauthenticated.stderr).toContain('unauthenticated bind');
      // ldapsearch without credentials is refused at its bind, before any search.
      const r = await ldapTool('ldapsearch', ['-LLL', '-x', '-H', url, '-b', BASE, '(objectClass=*)']);
      expect([r.code, r.stdout]).toEqual([48, '']);
    });
  });

  describe('search', () => {
    it('looks a user up the way a Postfix ldap table does (service account, mail or uid filter)', async () => {
      const byMail = await search(MX1, mx1, `ou=people,${BASE}`, '(&(objectClass=inetOrgPerson)(mail=bob@storm.internal))', 'mail', 'uid');
      expect(byMail.code, byMail.stderr).toBe(0);
      expect(parseLdif(byMail.stdout)).toEqual([
        { dn: `uid=bob,ou=people,${BASE}`, attributes: { uid: ['bob'], mail: ['Bob@Storm.Internal'] } },
      ]);
      const byUid = await search(MX1, mx1, `ou=people,${BASE}`, '(&(objectClass=inetOrgPerson)(uid=alice))', 'mail');
      expect(parseLdif(byUid.stdout)).toEqual([{ dn: ALICE, attributes: { mail: ['alice@storm.internal'] } }]);
      const none = await search(MX1, mx1, `ou=people,${BASE}`, '(&(objectClass=inetOrgPerson)(mail=nobody@storm.internal))', 'mail');
      expect([none.code, none.stdout]).toEqual([0, '']);
    });

    it('evaluates equality, presence, substrings, and/or/not, ordering and memberOf filters', async () => {
      expect(await dns('(uid=a*)', 'dn')).toEqual([ALICE]);
      expect(await dns('(&(objectClass=posixAccount)(!(mail=*)))', 'dn')).toEqual([`uid=carol,ou=people,${BASE}`]);
      expect(await dns('(|(mail=*@example.org)(cn=*ann*))', 'dn')).toEqual([`uid=carol,ou=people,${BASE}`, `uid=eve,ou=people,${BASE}`]);
      expect(await dns('(&(objectClass=posixAccount)(uidNumber>=10002))', 'dn')).toEqual([
        `uid=carol,ou=people,${BASE}`,
        `uid=eve,ou=people,${BASE}`,
      ]);
      expect(await dns(`(memberOf=cn=staff,ou=groups,${BASE})`, 'dn')).toEqual([ALICE]);
      expect(await dns('(&(objectClass=posixGroup)(memberUid=bob))', 'cn')).toEqual([`cn=mail,ou=groups,${BASE}`]);
      expect(await dns('(MAIL=ALICE@STORM.INTERNAL)', 'dn')).toEqual([ALICE]);
      // An unknown attribute is Undefined, and NOT(Undefined) is still not a match.
      expect(await dns('(!(favouriteColour=blue))', 'dn')).toEqual([]);
    });

    it('honours scopes, attribute selection, the size limit and the root DSE', async () => {
      expect(await dns('-s', 'one', '(objectClass=*)', 'dn')).toEqual([`ou=people,${BASE}`, `ou=groups,${BASE}`, `ou=services,${BASE}`]);
      const alice = await search(
        ALICE,
        PASSWORDS.alice,
        ALICE,
        '-s',
        'base',
        '(objectClass=*)',
        'uidNumber',
        'homeDirectory',
        'loginShell',
        'gidNumber',
      );
      expect(parseLdif(alice.stdout)[0]?.attributes).toEqual({
        uidNumber: ['10000'],
        gidNumber: ['100'],
        homeDirectory: ['/home/alice'],
        loginShell: ['/bin/sh'],
      });
      const limited = await asAlice('-z', '2', '(objectClass=posixAccount)', 'dn');
      expect(limited.code).toBe(4);
      expect(parseLdif(limited.stdout)).toHaveLength(2);
      const root = await search(ALICE, PASSWORDS.alice, '', '-s', 'base', '(objectClass=*)', '+');
      expect(parseLdif(root.stdout)[0]?.attributes['namingContexts']).toEqual([BASE]);
      const missing = await asAlice('-b', `uid=nobody,ou=people,${BASE}`, '(objectClass=*)');
      expect(missing.code).toBe(32);
    });

    it('never returns a password or a hash, whatever is asked', async () => {
      const r = await asAlice('(objectClass=*)', '*', '+', 'userPassword');
      expect(r.code).toBe(0);
      expect(r.stdout).not.toMatch(/userPassword|scrypt|sha256/i);
      expect(await dns('(userPassword=*)', 'dn')).toEqual([]);
    });
  });

  describe('filter injection', () => {
    // A naive application builds its filter as `(uid=${input})`.
    const naive = (input: string) => `(uid=${input})`;
    // A careful one escapes the value first (RFC 4515 §3).
    const escaped = (input: string) =>
      `(uid=${input.replace(/[\\*()\u0000]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`)})`;

    it('"*)(uid=*" built naively is not a filter: libldap refuses it before sending, so nothing is returned', async () => {
      for (const input of ['*)(uid=*', 'alice)(uid=*', '*)(|(uid=*']) {
        // `(uid=*)(uid=*)` is two filters side by side; RFC 4515 allows one, so the client library
        // stops with "Bad search filter" and no request reaches the server.
        const r = await asAlice(naive(input), 'dn');
        expect(r.code, input).not.toBe(0);
        expect(r.stderr, input).toContain('Bad search filter');
        expect(r.stdout, input).toBe('');
      }
      // The literal from the acceptance criterion, with its unbalanced parenthesis, likewise.
      const literal = await asAlice('(uid=*)(uid=*', 'dn');
      expect([literal.stdout, literal.stderr.includes('Bad search filter')]).toEqual(['', true]);
    });

    it('escaped, the same input is a value: the server compares it literally and finds nobody', async () => {
      for (const input of ['*)(uid=*', 'alice)(uid=*', '*']) {
        expect(await dns(escaped(input), 'dn'), input).toEqual([]);
      }
      expect(await dns(escaped('alice'), 'dn')).toEqual([ALICE]);
    });
  });

  describe('read-only', () => {
    it('refuses add, delete and password change with unwillingToPerform (53); compare is allowed', async () => {
      const add = await ldapTool(
        'ldapadd',
        ['-x', '-H', url, '-D', ALICE, '-w', PASSWORDS.alice],
        `dn: uid=mallory,ou=people,${BASE}\nobjectClass: inetOrgPerson\nuid: mallory\ncn: M\nsn: M\n`,
      );
      expect(add.code, add.stderr).toBe(53);
      expect(add.stderr).toContain('read-only');
      const del = await ldapTool('ldapdelete', ['-x', '-H', url, '-D', ALICE, '-w', PASSWORDS.alice, `uid=bob,ou=people,${BASE}`]);
      expect(del.code).toBe(53);
      const passwd = await ldapTool('ldappasswd', ['-x', '-H', url, '-D', ALICE, '-w', PASSWORDS.alice, '-s', 'new-password-1']);
      // ldappasswd prints the result code but exits 1 on any failure.
      expect([passwd.code, `${passwd.stdout}${passwd.stderr}`.includes('unwilling to perform (53)')]).toEqual([1, true]);
      expect(await t.store.authenticate({ kind: 'user', name: 'alice' }, PASSWORDS.alice)).toBe(true);
      expect((await t.store.getUser('bob')).uid).toBe('bob');
      const same = await ldapTool('ldapcompare', ['-x', '-H', url, '-D', ALICE, '-w', PASSWORDS.alice, ALICE, 'mail:ALICE@storm.internal']);
      expect([same.code, same.stdout.trim()]).toEqual([6, 'TRUE']);
      const password = await ldapTool('ldapcompare', [
        '-x',
        '-H',
        url,
        '-D',
        ALICE,
        '-w',
        PASSWORDS.alice,
        ALICE,
        `userPassword:${PASSWORDS.alice}`,
      ]);
      expect(password.code).toBe(16);
    });
  });
});
