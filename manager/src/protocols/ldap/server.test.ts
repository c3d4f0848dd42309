import { connect } from 'node:net';
import ldapjs from 'ldapjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDirectory, PASSWORDS, populate, type TestDirectory } from '../../directory/test-support/fixtures.js';
import { Oid, Op, ResultCode } from './protocol.js';
import { LdapServer } from './server.js';
import {
  bindRequest,
  compareRequest,
  control,
  extendedRequest,
  f,
  int,
  msg,
  RawClient,
  saslBind,
  searchRequest,
  str,
  tlv,
  unbindRequest,
} from './test-support/wire.js';

const BASE = 'dc=storm,dc=internal';
const ALICE = `uid=alice,ou=people,${BASE}`;
let t: TestDirectory;
let mx1: string;
let server: LdapServer;
let port: number;
const clients: RawClient[] = [];

beforeAll(async () => {
  t = await openTestDirectory({ cost: { log2N: 10, r: 8, p: 1 } });
  ({ mx1 } = await populate(t.store));
  server = new LdapServer(
    { listen: '127.0.0.1:0', maxConnections: 20, messageTimeoutMs: 300, bindTimeoutMs: 1500 },
    { directory: t.store },
  );
  await server.start();
  port = server.address.port;
});
afterAll(async () => {
  for (const c of clients) c.close();
  await server.close();
  await t.close();
});

async function client(): Promise<RawClient> {
  const c = await RawClient.connect(port);
  clients.push(c);
  return c;
}

async function bound(dn = ALICE, password: string = PASSWORDS.alice): Promise<RawClient> {
  const c = await client();
  c.send(msg(1, bindRequest(dn, password)));
  expect((await c.next()).code).toBe(ResultCode.success);
  return c;
}

async function bindCode(dn: string, password: string | Buffer, version = 3): Promise<{ code?: number; message?: string }> {
  const c = await client();
  c.send(msg(1, bindRequest(dn, password, version)));
  const a = await c.next();
  c.close();
  return { code: a.code, message: a.message };
}

describe('LdapServer bind', () => {
  it('accepts a user and a service account with the right password', async () => {
    expect(await bindCode(ALICE, PASSWORDS.alice)).toEqual({ code: ResultCode.success, message: '' });
    expect(await bindCode('UID=Alice, OU=People, DC=Storm, DC=Internal', PASSWORDS.alice)).toMatchObject({ code: ResultCode.success });
    expect(await bindCode(`cn=mx1,ou=services,${BASE}`, mx1)).toMatchObject({ code: ResultCode.success });
  });

  it('answers a wrong password and an unknown DN the same way (49, no detail)', async () => {
    const wrong = await bindCode(ALICE, 'wrong-password');
    const unknown = await bindCode(`uid=mallory,ou=people,${BASE}`, 'wrong-password');
    const outside = await bindCode('cn=admin,dc=example,dc=org', 'wrong-password');
    const group = await bindCode(`cn=mail,ou=groups,${BASE}`, 'wrong-password');
    const noPassword = await bindCode(`uid=carol,ou=people,${BASE}`, 'anything-at-all');
    for (const r of [wrong, unknown, outside, group, noPassword]) expect(r).toEqual({ code: ResultCode.invalidCredentials, message: '' });
  });

  it('refuses anonymous, unauthenticated (DN without password), SASL, LDAPv2 and an invalid DN', async () => {
    expect(await bindCode('', '')).toMatchObject({ code: ResultCode.inappropriateAuthentication });
    expect(await bindCode('', 'password')).toMatchObject({ code: ResultCode.inappropriateAuthentication });
    expect(await bindCode(ALICE, '')).toMatchObject({ code: ResultCode.unwillingToPerform });
    expect(await bindCode(ALICE, PASSWORDS.alice, 2)).toMatchObject({ code: ResultCode.protocolError });
    expect(await bindCode('uid=alice,,dc=x', 'pw')).toMatchObject({ code: ResultCode.invalidDNSyntax });
    const c = await client();
    c.send(msg(1, saslBind('', 'EXTERNAL')));
    expect((await c.next()).code).toBe(ResultCode.authMethodNotSupported);
  });

  it('forgets the identity after a failed bind on the same connection', async () => {
    const c = await bound();
    c.send(msg(2, bindRequest(ALICE, 'wrong-password')));
    expect((await c.next()).code).toBe(ResultCode.invalidCredentials);
    c.send(msg(3, searchRequest(BASE, f.present('objectClass'))));
    expect((await c.next()).code).toBe(ResultCode.insufficientAccessRights);
  });
});

describe('LdapServer before and after bind', () => {
  it('refuses search and compare before a bind, answers Who am I? with the empty identity', async () => {
    const c = await client();
    c.send(msg(1, searchRequest(BASE, f.present('objectClass'))));
    expect(await c.next()).toMatchObject({ id: 1, op: Op.searchResultDone, code: ResultCode.insufficientAccessRights });
    c.send(msg(2, searchRequest('', f.present('objectClass'), { scope: 0 })));
    expect(await c.next()).toMatchObject({ op: Op.searchResultDone, code: ResultCode.insufficientAccessRights });
    c.send(msg(3, compareRequest(ALICE, 'uid', 'alice')));
    expect(await c.next()).toMatchObject({ op: Op.compareResponse, code: ResultCode.insufficientAccessRights });
    c.send(msg(4, extendedRequest(Oid.whoAmI)));
    expect(await c.next()).toMatchObject({ op: Op.extendedResponse, code: ResultCode.success, value: '' });
  });

  it('searches with filters once bound, answers in order when requests are pipelined', async () => {
    const c = await bound(`cn=mx1,ou=services,${BASE}`, mx1);
    c.send(
      Buffer.concat([
        msg(
          2,
          searchRequest(`ou=people,${BASE}`, f.and(f.eq('objectClass', 'inetOrgPerson'), f.eq('mail', 'alice@STORM.internal')), {
            attributes: ['mail', 'uid'],
          }),
        ),
        msg(3, extendedRequest(Oid.whoAmI)),
        msg(4, compareRequest(ALICE, 'uidNumber', '10000')),
      ]),
    );
    const search = await c.collect(Op.searchResultDone);
    expect(search).toEqual([
      { id: 2, op: Op.searchResultEntry, dn: ALICE, attributes: { uid: ['alice'], mail: ['alice@storm.internal'] } },
      { id: 2, op: Op.searchResultDone, code: 0, matchedDn: '', message: '' },
    ]);
    expect(await c.next()).toMatchObject({ id: 3, value: `dn:cn=mx1,ou=services,${BASE}` });
    expect(await c.next()).toMatchObject({ id: 4, op: Op.compareResponse, code: ResultCode.compareTrue });
  });

  it('matches the injection value literally: an assertion of "*)(uid=*" finds nobody', async () => {
    const c = await bound();
    c.send(msg(2, searchRequest(BASE, f.eq('uid', '*)(uid=*'))));
    expect(await c.collect(Op.searchResultDone)).toEqual([{ id: 2, op: Op.searchResultDone, code: 0, matchedDn: '', message: '' }]);
  });

  it('refuses every write with unwillingToPerform in the matching response', async () => {
    const c = await bound();
    const writes: [Buffer, number][] = [
      [tlv(0x68, str(`uid=x,ou=people,${BASE}`), tlv(0x30)), Op.addResponse],
      [tlv(0x66, str(ALICE), tlv(0x30)), Op.modifyResponse],
      [tlv(0x4a, ALICE), Op.delResponse],
      [tlv(0x6c, str(ALICE), str('uid=y'), tlv(0x01, Buffer.from([0xff]))), Op.modDnResponse],
    ];
    for (const [i, [op, response]] of writes.entries()) {
      c.send(msg(10 + i, op));
      expect(await c.next()).toMatchObject({ id: 10 + i, op: response, code: ResultCode.unwillingToPerform });
    }
    c.send(msg(20, extendedRequest(Oid.passwordModify)));
    expect((await c.next()).code).toBe(ResultCode.unwillingToPerform);
    c.send(msg(21, extendedRequest('1.2.3.4.5')));
    expect((await c.next()).code).toBe(ResultCode.protocolError);
    c.send(msg(22, extendedRequest(Oid.startTls)));
    expect((await c.next()).code).toBe(ResultCode.unavailable);
    expect((await t.store.getUser('alice')).uid).toBe('alice');
  });

  it('answers an unsupported critical control with unavailableCriticalExtension and ignores non-critical ones', async () => {
    const c = await bound();
    const paged = control('1.2.840.113556.1.4.319', true, tlv(0x30, int(10), str('')));
    c.send(msg(2, searchRequest(BASE, f.present('objectClass')), [paged]));
    expect(await c.next()).toMatchObject({ id: 2, op: Op.searchResultDone, code: ResultCode.unavailableCriticalExtension });
    c.send(
      msg(3, searchRequest(ALICE, f.present('objectClass'), { scope: 0, attributes: ['1.1'] }), [
        control('1.2.840.113556.1.4.319', false),
        control(Oid.manageDsaIT, true),
      ]),
    );
    expect((await c.collect(Op.searchResultDone)).map((a) => a.op)).toEqual([Op.searchResultEntry, Op.searchResultDone]);
  });

  it('sees directory changes at once', async () => {
    const c = await bound();
    await t.store.createUser({ uid: 'frank', mail: 'frank@storm.internal', password: 'frank-password' });
    c.send(msg(2, searchRequest(BASE, f.eq('mail', 'frank@storm.internal'), { attributes: ['uid'] })));
    expect((await c.collect(Op.searchResultDone))[0]).toMatchObject({ dn: `uid=frank,ou=people,${BASE}` });
    expect(await bindCode(`uid=frank,ou=people,${BASE}`, 'frank-password')).toMatchObject({ code: 0 });
    await t.store.deleteUser('frank');
    expect(await bindCode(`uid=frank,ou=people,${BASE}`, 'frank-password')).toMatchObject({ code: ResultCode.invalidCredentials });
  });

  it('serves a real client library (ldapjs)', async () => {
    const ldap = ldapjs.createClient({ url: `ldap://127.0.0.1:${port}` });
    ldap.on('error', () => undefined);
    try {
      await new Promise<void>((resolve, reject) => ldap.bind(ALICE, PASSWORDS.alice, (err) => (err ? reject(err) : resolve())));
      const names = await new Promise<string[]>((resolve, reject) => {
        ldap.search(`ou=groups,${BASE}`, { scope: 'one', filter: '(memberUid=alice)', attributes: ['cn'] }, (err, res) => {
          if (err) return reject(err);
          const out: string[] = [];
          res.on('searchEntry', (e) => out.push(String(e.pojo.objectName)));
          res.on('error', reject);
          res.on('end', () => resolve(out));
        });
      });
      expect(names).toEqual([`cn=mail,ou=groups,${BASE}`, `cn=staff,ou=groups,${BASE}`]);
    } finally {
      await new Promise<void>((resolve) => ldap.unbind(() => resolve()));
    }
  });
});

describe('LdapServer connection guards', () => {
  const isNotice = (a: { id: number; name?: string; code?: number }) =>
    a.id === 0 && a.name === Oid.noticeOfDisconnection && a.code === ResultCode.protocolError;

  it('ends a connection with a Notice of Disconnection on a malformed or unknown message', async () => {
    for (const bytes of [
      Buffer.from('GET / HTTP/1.1\r\n\r\n'),
      msg(1, tlv(0x7e, 'x')),
      msg(1, tlv(0x60, int(3))),
      msg(0, unbindRequest()),
      msg(1, unbindRequest(), [str('x')]),
    ]) {
      const c = await client();
      c.send(bytes);
      expect(isNotice(await c.next()), bytes.toString('hex')).toBe(true);
      expect(await c.closedByServer()).toBe(true);
    }
  });

  it('ends a connection whose message is larger than the limit, from the header alone', async () => {
    const before = server.stats().oversize;
    const c = await client();
    c.send(Buffer.from([0x30, 0x84, 0x00, 0x10, 0x00, 0x00]));
    expect(isNotice(await c.next())).toBe(true);
    expect(server.stats().oversize).toBe(before + 1);
  });

  it('closes on unbind', async () => {
    const c = await bound();
    c.send(msg(2, unbindRequest()));
    expect(await c.closedByServer()).toBe(true);
  });

  it('drops a message that does not complete in time and a connection that does not bind in time', async () => {
    const slow = await client();
    slow.send(msg(1, bindRequest(ALICE, PASSWORDS.alice)).subarray(0, 10));
    expect(await slow.closedByServer(2000)).toBe(true);
    const idle = await client();
    const kept = await bound();
    expect(await idle.closedByServer(3000)).toBe(true);
    kept.send(msg(5, extendedRequest(Oid.whoAmI)));
    expect(await kept.next()).toMatchObject({ id: 5, value: `dn:${ALICE}` });
  });

  it('closes connections beyond maxConnections at once and counts them', async () => {
    const before = server.stats();
    const open = await Promise.all(Array.from({ length: 20 - before.activeConnections }, () => client()));
    await new Promise((r) => setTimeout(r, 50));
    const extra = await client();
    expect(await extra.closedByServer(1000)).toBe(true);
    expect(server.stats().rejectedConnections).toBe(before.rejectedConnections + 1);
    for (const c of open) c.close();
    await new Promise((r) => setTimeout(r, 100));
    await bound();
  });

  it('caps connections per source address, other sources still get in', async () => {
    const limited = new LdapServer({ listen: '127.0.0.1:0', maxConnectionsPerSource: 2 }, { directory: t.store });
    await limited.start();
    try {
      const open = (localAddress: string) =>
        new Promise<boolean>((resolve) => {
          const s = connect({ port: limited.address.port, host: '127.0.0.1', localAddress });
          s.on('error', () => resolve(false));
          s.on('close', () => resolve(false));
          s.on('connect', () => setTimeout(() => resolve(!s.destroyed), 200));
        });
      expect(await Promise.all([open('127.0.0.1'), open('127.0.0.1')])).toEqual([true, true]);
      expect([await open('127.0.0.1'), await open('127.0.0.2')]).toEqual([false, true]);
      expect(limited.stats()).toMatchObject({ rejectedConnections: 1, activeConnections: 3 });
    } finally {
      await limited.close();
    }
  });

  it('counts what it saw', () => {
    const s = server.stats();
    expect(s.bindsSucceeded).toBeGreaterThan(5);
    expect(s.bindsFailed).toBeGreaterThan(3);
    expect(s.bindsRefused).toBeGreaterThan(3);
    expect(s.malformed).toBeGreaterThanOrEqual(5);
    expect(s.writesRefused).toBe(4);
    expect(s.unauthenticatedRefused).toBeGreaterThanOrEqual(3);
    expect(s.timeouts).toBeGreaterThanOrEqual(2);
    expect(s.internalErrors).toBe(0);
  });
});
