/**
 * LDAP StartTLS against OpenLDAP's own clients: `-ZZ` (StartTLS, certificate verified against the
 * STORM CA by name) works; with `requireTls` a bind in clear is refused with confidentialityRequired
 * (13); a client trusting another CA refuses the server. A recording relay in front of the server
 * shows what crossed the wire: the password in clear without TLS, never with it. Loopback only.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, connect, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDirectory, PASSWORDS, populate, type TestDirectory } from '../../manager/src/directory/test-support/fixtures.js';
import { pkiFixture } from '../../trust/test-support/fixtures.js';
import { Oid, ResultCode } from '../../manager/src/protocols/ldap/protocol.js';
import { LdapServer } from '../../manager/src/protocols/ldap/server.js';
import { ldapTool, parseLdif } from '../../manager/src/protocols/ldap/test-support/openldap-tools.js';
import { control, extendedRequest, msg, RawClient } from '../../manager/src/protocols/ldap/test-support/wire.js';
import { haveCommand } from '../harness/netns.js';

const BASE = 'dc=storm,dc=internal';
const ALICE = `uid=alice,ou=people,${BASE}`;

/** A TCP relay to `port` that keeps every byte the client sent. */
async function recordingRelay(port: number): Promise<{ port: number; sent: () => Buffer; server: Server }> {
  const chunks: Buffer[] = [];
  const server = createServer((client) => {
    const upstream = connect({ port, host: '127.0.0.1' });
    client.on('data', (c: Buffer) => chunks.push(c));
    client.pipe(upstream).pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as { port: number }).port, sent: () => Buffer.concat(chunks), server };
}

describe.skipIf(!haveCommand('ldapwhoami'))('LDAP StartTLS with the OpenLDAP clients', () => {
  let t: TestDirectory;
  let dir: string;
  let required: LdapServer;
  let offered: LdapServer;
  let caPem: string;
  let env: NodeJS.ProcessEnv;
  let foreignEnv: NodeJS.ProcessEnv;

  beforeAll(async () => {
    t = await openTestDirectory();
    await populate(t.store);
    const [ours, foreign] = await Promise.all([pkiFixture(0), pkiFixture(0, 'another CA')]);
    dir = await mkdtemp(join(tmpdir(), 'storm-ldaptls-'));
    caPem = ours.ca.certPem;
    await writeFile(join(dir, 'ca.pem'), caPem);
    await writeFile(join(dir, 'foreign.pem'), foreign.ca.certPem);
    // The manager offers its guests' certificate; this is one of the same kind, for 127.0.0.1.
    const leaf = ours.ca.issueEcServerCertificate(['127.0.0.1', 'storm.local']);
    const tls = { cert: leaf.certPem, key: leaf.keyPem };
    required = new LdapServer({ listen: '127.0.0.1:0', requireTls: true }, { directory: t.store, tls });
    offered = new LdapServer({ listen: '127.0.0.1:0' }, { directory: t.store, tls });
    await Promise.all([required.start(), offered.start()]);
    // Demand a verified certificate, as a careful appliance would (LDAPNOINIT would also drop these variables).
    env = { LDAPTLS_CACERT: join(dir, 'ca.pem'), LDAPTLS_REQCERT: 'demand' };
    foreignEnv = { ...env, LDAPTLS_CACERT: join(dir, 'foreign.pem') };
  });
  afterAll(async () => {
    await required?.close();
    await offered?.close();
    await t?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const url = (s: LdapServer, port = s.address.port) => `ldap://127.0.0.1:${port}`;
  const whoami = (u: string, e: NodeJS.ProcessEnv, ...args: string[]) =>
    ldapTool('ldapwhoami', ['-x', '-H', u, '-D', ALICE, '-w', PASSWORDS.alice, ...args], '', 15_000, e);

  it('binds after StartTLS (-ZZ) with the certificate verified against the CA', async () => {
    const before = required.stats().tlsStarted;
    expect(await whoami(url(required), env, '-ZZ')).toMatchObject({ code: 0, stdout: `dn:${ALICE}\n` });
    expect(required.stats().tlsStarted).toBe(before + 1);
  });

  it('with requireTls, refuses a bind in clear with confidentialityRequired (13)', async () => {
    const r = await whoami(url(required), env);
    expect(r.code).toBe(13);
    expect(r.stderr).toContain('Confidentiality required (13)');
    expect(r.stderr).toContain('StartTLS');
    expect(required.stats().bindsInClearRefused).toBeGreaterThan(0);
  });

  it('a client trusting another CA refuses the server: nothing is sent after the handshake fails', async () => {
    const r = await whoami(url(required), foreignEnv, '-ZZ');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/certificate|TLS|connect/i);
  });

  it('keeps the password off the wire with StartTLS, and only then', async () => {
    const clear = await recordingRelay(offered.address.port);
    const secure = await recordingRelay(offered.address.port);
    try {
      expect((await whoami(url(offered, clear.port), env)).code).toBe(0);
      expect((await whoami(url(offered, secure.port), env, '-ZZ')).code).toBe(0);
      // The check can fail: in clear, the password is right there in the bind request.
      expect(clear.sent().includes(PASSWORDS.alice)).toBe(true);
      expect(secure.sent().length).toBeGreaterThan(0);
      expect(secure.sent().includes(PASSWORDS.alice)).toBe(false);
    } finally {
      clear.server.close();
      secure.server.close();
    }
  });

  it('announces StartTLS in the root DSE', async () => {
    const r = await ldapTool(
      'ldapsearch',
      ['-LLL', '-x', '-ZZ', '-H', url(offered), '-D', ALICE, '-w', PASSWORDS.alice, '-b', '', '-s', 'base', 'supportedExtension'],
      '',
      15_000,
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(parseLdif(r.stdout)[0]?.attributes.supportedExtension).toContain(Oid.startTls);
  });

  it('refuses a second StartTLS inside TLS, and the connection goes on in TLS', async () => {
    const { answer, client } = await RawClient.overStartTls(offered.address.port, caPem);
    try {
      expect(answer).toMatchObject({ id: 1, code: ResultCode.success, name: Oid.startTls });
      client.send(msg(2, extendedRequest(Oid.startTls)));
      expect(await client.next()).toMatchObject({ id: 2, code: ResultCode.operationsError, message: 'TLS is already established' });
      client.send(msg(3, extendedRequest(Oid.whoAmI)));
      expect(await client.next()).toMatchObject({ id: 3, code: ResultCode.success });
    } finally {
      client.close();
    }
  });

  it('refuses StartTLS carrying an unknown critical control, like any other request', async () => {
    const c = await RawClient.connect(offered.address.port);
    try {
      c.send(msg(1, extendedRequest(Oid.startTls), [control('1.2.3.4.5', true)]));
      expect(await c.next()).toMatchObject({ id: 1, code: ResultCode.unavailableCriticalExtension });
      c.send(msg(2, extendedRequest(Oid.whoAmI)));
      expect(await c.next()).toMatchObject({ id: 2, code: ResultCode.success });
    } finally {
      c.close();
    }
  });

  it('refuses StartTLS sent with another request behind it, and the connection goes on in clear', async () => {
    const c = await RawClient.connect(offered.address.port);
    try {
      c.send(Buffer.concat([msg(1, extendedRequest(Oid.startTls)), msg(2, extendedRequest(Oid.whoAmI))]));
      expect(await c.next()).toMatchObject({ id: 1, code: ResultCode.operationsError, name: Oid.startTls });
      expect(await c.next()).toMatchObject({ id: 2, code: ResultCode.success });
    } finally {
      c.close();
    }
  });
});
