/**
 * The LDAP server under hostile input, over real sockets on loopback: random garbage, mutated and
 * truncated BER, every tag that is not a request, malformed controls, filter bombs, oversize
 * headers, a slow drip, a client that never reads, and more connections than allowed. Afterwards
 * ldapsearch and ldapwhoami still get answers, no connection is left open, no internal error was
 * counted, and the heap (measured after a full GC) did not grow. Replay a run with
 * `STORM_FUZZ_SEED=<seed>`.
 */
import { connect } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDirectory, PASSWORDS, populate, type TestDirectory } from '../../manager/src/directory/test-support/fixtures.js';
import { mutate, randomBytes, seededRandom } from '../../manager/src/protocols/dhcp/test-support/fuzz.js';
import { MessageFramer } from '../../manager/src/protocols/ldap/framer.js';
import { Oid, Op, ResultCode } from '../../manager/src/protocols/ldap/protocol.js';
import { LdapServer } from '../../manager/src/protocols/ldap/server.js';
import { ldapTool, parseLdif } from '../../manager/src/protocols/ldap/test-support/openldap-tools.js';
import {
  type Answer,
  bindRequest,
  compareRequest,
  control,
  extendedRequest,
  f,
  int,
  msg,
  parseAnswer,
  searchRequest,
  str,
  tlv,
  unbindRequest,
} from '../../manager/src/protocols/ldap/test-support/wire.js';
import { haveCommand } from '../harness/netns.js';

const BASE = 'dc=storm,dc=internal';
const ALICE = `uid=alice,ou=people,${BASE}`;
const MAX_CONNECTIONS = 200;
const seed = Number(process.env['STORM_FUZZ_SEED'] ?? Date.now() % 1_000_000);
const rng = seededRandom(seed);

/** A full collection when we can have one, so heap numbers mean retained memory, not garbage. */
const gc: () => void = (() => {
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  } catch {
    return () => undefined;
  }
})();

interface Exchange {
  readonly answers: Answer[];
  /** The server ended or reset the connection before we gave up on it. */
  readonly closedByServer: boolean;
  readonly notice: boolean;
}

/** Sends `chunks` (spaced by `dripMs`), reads what comes back, waits at most `waitMs` for the server to close. */
function exchange(chunks: Buffer | Buffer[], o: { waitMs?: number; dripMs?: number; read?: boolean } = {}): Promise<Exchange> {
  const parts = Array.isArray(chunks) ? chunks : [chunks];
  return new Promise((resolve) => {
    const answers: Answer[] = [];
    const framer = new MessageFramer(1 << 24);
    let closedByServer = false;
    const socket = connect({ port, host: '127.0.0.1' });
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ answers, closedByServer, notice: answers.some((a) => a.id === 0 && a.name === Oid.noticeOfDisconnection) });
    };
    const timer = setTimeout(done, o.waitMs ?? 3000);
    socket.on('error', () => {
      closedByServer = true;
      done();
    });
    socket.on('end', () => {
      closedByServer = true;
      done();
    });
    if (o.read === false) socket.pause();
    socket.on('data', (chunk: Buffer) => {
      for (const frame of framer.push(chunk)) answers.push(parseAnswer(frame));
    });
    socket.on('connect', async () => {
      for (const part of parts) {
        if (socket.destroyed) return;
        socket.write(part);
        if (o.dripMs) await new Promise((r) => setTimeout(r, o.dripMs));
      }
    });
  });
}

/** Runs `fn(i)` for i < n with at most `width` at once. */
async function pool<T>(n: number, width: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, n) }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await fn(i);
      }
    }),
  );
  return out;
}

let t: TestDirectory;
let server: LdapServer;
let port: number;
const logs: string[] = [];

const valid = [
  msg(1, bindRequest(ALICE, PASSWORDS.alice)),
  msg(2, bindRequest(`uid=mallory,ou=people,${BASE}`, 'nope-nope')),
  msg(
    3,
    searchRequest(BASE, f.and(f.eq('objectClass', 'inetOrgPerson'), f.sub('mail', undefined, [], '@storm.internal')), {
      attributes: ['mail', 'uid'],
    }),
    [control('1.2.840.113556.1.4.319', false, tlv(0x30, int(10), str('')))],
  ),
  msg(
    4,
    searchRequest(
      BASE,
      f.or(
        f.not(f.present('mail')),
        f.ge('uidNumber', '10001'),
        f.ext({ rule: 'caseIgnoreMatch', type: 'cn', value: 'alice liddell', dn: true }),
      ),
    ),
  ),
  msg(5, compareRequest(ALICE, 'mail', 'alice@storm.internal')),
  msg(6, extendedRequest(Oid.whoAmI)),
  msg(7, tlv(0x68, str(`uid=x,ou=people,${BASE}`), tlv(0x30))),
  msg(8, searchRequest('', f.present('objectClass'), { scope: 0, attributes: ['+'] })),
];
const REQUEST_TAGS = new Set<number>([
  Op.bindRequest,
  Op.unbindRequest,
  Op.searchRequest,
  Op.modifyRequest,
  Op.addRequest,
  Op.delRequest,
  Op.modDnRequest,
  Op.compareRequest,
  Op.abandonRequest,
  Op.extendedRequest,
]);

describe.skipIf(!haveCommand('ldapsearch'))(`LDAP robustness (seed ${seed})`, () => {
  let heapBefore = 0;

  beforeAll(async () => {
    t = await openTestDirectory({ cost: { log2N: 12, r: 8, p: 1 } });
    await populate(t.store);
    server = new LdapServer(
      {
        listen: '127.0.0.1:0',
        maxConnections: MAX_CONNECTIONS,
        maxConnectionsPerSource: MAX_CONNECTIONS,
        messageTimeoutMs: 300,
        bindTimeoutMs: 1000,
        idleTimeoutMs: 3000,
      },
      { directory: t.store, log: (m) => logs.push(m) },
    );
    await server.start();
    port = server.address.port;
    // Warm up (first tree build, dummy hash) before the baseline.
    await exchange([valid[0]!, valid[2]!, msg(9, unbindRequest())]);
    gc();
    heapBefore = process.memoryUsage().heapUsed;
  });
  afterAll(async () => {
    await server?.close();
    await t?.close();
  });

  it('raw garbage: every connection is closed, most with a Notice of Disconnection', async () => {
    const results = await pool(300, 50, () => {
      // Half of it wears an LDAPMessage header so it gets past the first byte.
      const body = randomBytes(rng, 1500);
      const bytes =
        rng() < 0.5
          ? Buffer.concat([Buffer.from([0x30, 0x82, body.length >> 8, body.length & 0xff]), body])
          : Buffer.concat([Buffer.from([Math.floor(rng() * 256)]), body]);
      return exchange(bytes);
    });
    expect(results.filter((r) => !r.closedByServer)).toEqual([]);
    expect(results.filter((r) => r.notice).length).toBeGreaterThan(200);
  }, 30_000);

  it('mutated and truncated BER: answered or refused, connection by connection', async () => {
    const results = await pool(400, 50, () => {
      const n = 1 + Math.floor(rng() * 5);
      const parts = Array.from({ length: n }, () => {
        const m = valid[Math.floor(rng() * valid.length)]!;
        return rng() < 0.6 ? mutate(m, rng) : m;
      });
      return exchange([Buffer.concat([...parts, msg(99, unbindRequest())])]);
    });
    expect(results.filter((r) => !r.closedByServer)).toEqual([]);
    // Truncated inside: the outer length says the message is complete, the inner elements overrun it.
    const inner = await pool(40, 20, () => {
      const m = valid[Math.floor(rng() * valid.length)]!;
      const body = m.subarray(2, 2 + Math.floor(rng() * (m.length - 3)));
      return exchange(tlv(0x30, body)); // the outer length encoded right (long form past 127 bytes)
    });
    expect(inner.filter((r) => !r.notice || !r.closedByServer)).toEqual([]);
    // Truncated outside: the rest never comes; the message clock closes the connection.
    const cut = await pool(40, 40, () => {
      const m = valid[Math.floor(rng() * valid.length)]!;
      return exchange(m.subarray(0, 1 + Math.floor(rng() * (m.length - 2))), { waitMs: 2500 });
    });
    expect(cut.filter((r) => !r.closedByServer)).toEqual([]);
  }, 30_000);

  it('unknown operation tags: every tag that is not a request ends the connection with a notice', async () => {
    const tags = Array.from({ length: 256 }, (_, i) => i).filter((tag) => !REQUEST_TAGS.has(tag));
    const results = await pool(tags.length, 50, (i) => exchange(msg(1, tlv(tags[i]!, 'payload'))));
    expect(results.filter((r) => !r.notice || !r.closedByServer).length).toBe(0);
  }, 30_000);

  it('malformed controls end the connection; a well-formed unknown critical one is refused politely', async () => {
    const whoami = extendedRequest(Oid.whoAmI);
    const malformed: Buffer[][] = [
      [str('1.2.3')],
      [control('not-an-oid', true)],
      [tlv(0x30, str('1.2.3'), tlv(0x01, Buffer.from([1, 1])))],
      [tlv(0x30, str('1.2.3'), bool(), int(4))],
      [tlv(0x30, str('1.2.3'), tlv(0x05))],
      [tlv(0x30)],
      [tlv(0x30, str(Buffer.from([0xff, 0xfe])))],
      [tlv(0x30, Buffer.from([0x04, 0x7f, 0x31]))],
      Array.from({ length: 17 }, () => control('1.2.3', false)),
    ];
    for (const controls of malformed) {
      const r = await exchange(msg(1, whoami, controls));
      expect([r.notice, r.closedByServer], controls.map((c) => c.toString('hex')).join(' ')).toEqual([true, true]);
    }
    // A controls element whose length overruns the message.
    const body = Buffer.concat([int(1), whoami, Buffer.from([0xa0, 0x7f])]);
    const overrun = await exchange(Buffer.concat([Buffer.from([0x30, body.length]), body]));
    expect([overrun.notice, overrun.closedByServer]).toEqual([true, true]);
    const critical = await exchange([msg(1, whoami, [control('1.2.3.4', true)]), msg(2, whoami), msg(3, unbindRequest())]);
    expect(critical.answers.map((a) => [a.id, a.code])).toEqual([
      [1, ResultCode.unavailableCriticalExtension],
      [2, ResultCode.success],
    ]);
  });

  it('filter bombs get adminLimitExceeded, oversize headers a notice, a slow drip is dropped', async () => {
    let deep = f.present('cn');
    for (let i = 0; i < 2000; i++) deep = f.not(deep);
    const wide = f.or(...Array.from({ length: 5000 }, () => f.present('cn')));
    const r = await exchange([
      msg(1, bindRequest(ALICE, PASSWORDS.alice)),
      msg(2, searchRequest(BASE, deep)),
      msg(3, searchRequest(BASE, wide)),
      msg(4, unbindRequest()),
    ]);
    expect(r.answers.map((a) => [a.id, a.code])).toEqual([
      [1, 0],
      [2, ResultCode.adminLimitExceeded],
      [3, ResultCode.adminLimitExceeded],
    ]);
    const oversize = await exchange(Buffer.from([0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x02]));
    expect([oversize.notice, oversize.closedByServer]).toEqual([true, true]);
    const bind = msg(1, bindRequest(ALICE, PASSWORDS.alice));
    const drip = await exchange(
      [...bind].map((b) => Buffer.from([b])),
      { dripMs: 20, waitMs: 4000 },
    );
    expect([drip.closedByServer, drip.answers]).toEqual([true, []]);
  }, 30_000);

  it('a client that never reads cannot make the server buffer without bound', async () => {
    const everything = msg(2, searchRequest(BASE, f.present('objectClass'), { attributes: ['*', '+'] }));
    const flood = Buffer.concat([msg(1, bindRequest(ALICE, PASSWORDS.alice)), ...Array.from({ length: 3000 }, () => everything)]);
    const before = server.stats();
    // A paused client never sees the close (no 'end' without reading), so watch the server's side.
    const pending = exchange(flood, { read: false, waitMs: 6000 });
    let stats = server.stats();
    for (let i = 0; i < 100 && !(stats.timeouts > before.timeouts && stats.activeConnections === 0); i++) {
      await new Promise((r) => setTimeout(r, 100));
      stats = server.stats();
    }
    // Dropped by the idle clock: the server stopped reading ahead and stopped writing past its high-water mark.
    expect([stats.timeouts - before.timeouts, stats.activeConnections]).toEqual([1, 0]);
    // It answered some searches, far from all 3000: the rest were never read.
    expect(stats.searches - before.searches).toBeLessThan(1000);
    await pending;
  }, 30_000);

  it('more connections than allowed: the extra ones are closed at once, the rest keep working', async () => {
    const before = server.stats().rejectedConnections;
    const sockets = await Promise.all(
      Array.from(
        { length: MAX_CONNECTIONS + 50 },
        () =>
          new Promise<import('node:net').Socket>((resolve) => {
            const s = connect({ port, host: '127.0.0.1' }, () => resolve(s));
            s.on('error', () => undefined);
          }),
      ),
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(server.stats().rejectedConnections - before).toBeGreaterThanOrEqual(50);
    expect(server.stats().activeConnections).toBeLessThanOrEqual(MAX_CONNECTIONS);
    for (const s of sockets) s.destroy();
    await new Promise((r) => setTimeout(r, 300));
    const after = await exchange([
      msg(1, bindRequest(ALICE, PASSWORDS.alice)),
      msg(2, extendedRequest(Oid.whoAmI)),
      msg(3, unbindRequest()),
    ]);
    expect(after.answers.map((a) => a.code)).toEqual([0, 0]);
  }, 30_000);

  it('afterwards: valid queries still answer, nothing is left open, nothing failed inside, the heap did not grow', async () => {
    const url = `ldap://127.0.0.1:${port}`;
    const who = await ldapTool('ldapwhoami', ['-x', '-H', url, '-D', ALICE, '-w', PASSWORDS.alice]);
    expect(who).toMatchObject({ code: 0, stdout: `dn:${ALICE}\n` });
    const search = await ldapTool('ldapsearch', [
      '-LLL',
      '-x',
      '-H',
      url,
      '-D',
      ALICE,
      '-w',
      PASSWORDS.alice,
      '-b',
      BASE,
      '(mail=bob@storm.internal)',
      'uid',
    ]);
    expect(parseLdif(search.stdout).map((e) => e.attributes['uid'])).toEqual([['bob']]);
    for (let i = 0; i < 50 && server.stats().activeConnections > 0; i++) await new Promise((r) => setTimeout(r, 100));
    const stats = server.stats();
    expect(stats.activeConnections).toBe(0);
    expect(
      stats.internalErrors,
      logs
        .filter((l) => !l.includes('closing'))
        .slice(0, 5)
        .join('\n'),
    ).toBe(0);
    expect(stats.malformed).toBeGreaterThan(500);
    gc();
    const grown = process.memoryUsage().heapUsed - heapBefore;
    expect(grown, `heap grew by ${(grown / 1048576).toFixed(1)} MiB`).toBeLessThan(16 * 1024 * 1024);
  });
});

function bool(): Buffer {
  return tlv(0x01, Buffer.from([0xff]));
}
