/**
 * The real manager's listeners hold against one greedy client. A TCP DNS client that pipelines
 * 20,000 queries for a large answer and never reads: the manager's resident memory stays within
 * 64 MiB of where it was, and `dig` from another socket is answered within 100 ms all along (dig's
 * own "Query time"). One address cannot hold more than its share of the API's, the guests', DNS's
 * or LDAP's connections, while another address still gets in. Loopback only.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { query } from '../../manager/src/protocols/dns/test-support/fixtures.js';
import { haveCommand } from '../harness/netns.js';
import { type ManagerProcess, startManager } from '../helpers/manager-process.js';
import { stopAllProcesses } from '../helpers/process.js';
import { freePort } from '../helpers/stormd-process.js';

const QUERIES = 20_000;
const MiB = 1024 * 1024;

async function rss(pid: number): Promise<number> {
  const kib = /VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kib) * 1024;
}

/** One `dig` over UDP: its status and the server's answer time as dig measured it. */
function dig(port: number, name: string): Promise<{ status: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn('dig', ['@127.0.0.1', '-p', String(port), '+time=1', '+tries=1', name, 'A'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('close', () =>
      resolve({ status: /status: (\w+)/.exec(out)?.[1] ?? 'no answer', ms: Number(/Query time: (\d+) msec/.exec(out)?.[1] ?? Infinity) }),
    );
  });
}

/** Opens `count` TCP connections from `localAddress` at once; how many the server holds once it shed those over `cap` (5 s at most). */
async function held(port: number, count: number, localAddress: string, cap = count): Promise<number> {
  const sockets = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<Socket>((resolve) => {
          const s = connect({ port, host: '127.0.0.1', localAddress }, () => resolve(s));
          s.on('error', () => undefined);
          // Read, so a close from the server is seen.
          s.on('data', () => undefined);
        }),
    ),
  );
  const opened = () => sockets.filter((s) => !s.destroyed && !s.readableEnded).length;
  for (const until = Date.now() + 5000; opened() > cap && Date.now() < until; ) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 300));
  const open = opened();
  for (const s of sockets) s.destroy();
  await new Promise((r) => setTimeout(r, 100));
  return open;
}

describe.skipIf(!haveCommand('dig'))("the manager's listeners against one greedy client", () => {
  let dir: string;
  let m: ManagerProcess;
  let port: number;
  let guestPort: number;
  let ldapPort: number;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'storm-listener-bounds-'));
    [port, guestPort, ldapPort] = [await freePort(), await freePort(), await freePort()];
    m = await startManager(dir, [
      '--network',
      '10.77.0.0/24',
      '--dns-listen',
      `127.0.0.1:${port}`,
      '--guest-listen',
      `127.0.0.1:${guestPort}`,
      '--ldap-listen',
      `127.0.0.1:${ldapPort}`,
    ]);
    // A 16 KiB answer: 16 TXT strings of 1,000 bytes at one name.
    for (let i = 0; i < 16; i++)
      await m.api.post('/dns/records', { type: 'TXT', name: 'big', value: `${String(i).padStart(2, '0')}${'x'.repeat(998)}` });
  }, 90_000);
  afterAll(async () => {
    await m?.proc.stop('SIGTERM');
    await stopAllProcesses();
    await rm(dir, { recursive: true, force: true });
  });

  it('caps connections from one address on every TCP listener, and lets another address in', async () => {
    const api = Number(new URL(m.url).port);
    // The caps: API 256, guests 16, DNS 32, LDAP 32 from one address.
    for (const [what, p, cap] of [
      ['api', api, 256],
      ['guest', guestPort, 16],
      ['dns', port, 32],
      ['ldap', ldapPort, 32],
    ] as const) {
      expect([what, await held(p, cap + 4, '127.0.0.5', cap)]).toEqual([what, cap]);
      expect([what, await held(p, 2, '127.0.0.6')]).toEqual([what, 2]);
    }
  });

  it(`stays within 64 MiB and answers dig within 100 ms while ${QUERIES.toLocaleString('en')} queries go unread`, async () => {
    for (let i = 0; i < 3; i++) expect((await dig(port, 'storm.local')).status).toBe('NOERROR');
    const before = await rss(m.proc.pid);
    const frame = query('big.storm.internal', 'TXT', { id: 1 });
    const one = Buffer.concat([Buffer.from([frame.length >> 8, frame.length & 255]), frame]);
    const flood: Socket = connect(port, '127.0.0.1');
    // Never read: no 'data' listener, so the socket stays paused and the kernel's buffers fill.
    flood.on('error', () => undefined);
    await new Promise<void>((r) => flood.once('connect', r));
    for (let i = 0; i < QUERIES; i += 1000) flood.write(Buffer.concat(Array.from({ length: 1000 }, () => one)));
    let peak = before;
    const sampler = setInterval(
      () =>
        void rss(m.proc.pid).then(
          (v) => (peak = Math.max(peak, v)),
          () => undefined,
        ),
      50,
    );
    const slow: string[] = [];
    try {
      const until = Date.now() + 5000;
      while (Date.now() < until) {
        const r = await dig(port, 'storm.local');
        if (r.status !== 'NOERROR' || r.ms >= 100) slow.push(`${r.status} in ${r.ms} ms`);
        await new Promise((res) => setTimeout(res, 100));
      }
      peak = Math.max(peak, await rss(m.proc.pid));
    } finally {
      clearInterval(sampler);
      flood.destroy();
    }
    expect.soft((peak - before) / MiB, 'resident memory growth, MiB').toBeLessThan(64);
    expect(slow, 'dig answers slower than 100 ms').toEqual([]);
  }, 60_000);
});
