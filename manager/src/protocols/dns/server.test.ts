import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { DnsServerConfig } from './config.js';
import { MemoryZoneSource } from './memory-zone-source.js';
import { DnsServer } from './server.js';
import { answerData, decode, query, sampleZone } from './test-support/fixtures.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

async function serve(zone = sampleZone(), extra: Partial<DnsServerConfig> = {}) {
  const server = new DnsServer({ listen: '127.0.0.1:0', networks: ['10.77.0.0/24'], ...extra }, { zone });
  await server.start();
  closers.push(() => server.close());
  return server;
}

function udp(port: number, packet: Buffer, timeoutMs = 1000): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    const timer = setTimeout(() => {
      s.close();
      resolve(undefined);
    }, timeoutMs);
    s.on('message', (m) => {
      clearTimeout(timer);
      s.close();
      resolve(m);
    });
    s.send(packet, port, '127.0.0.1');
  });
}

function tcp(port: number, packets: Buffer[]): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    const out: Buffer[] = [];
    let buf = Buffer.alloc(0);
    s.on('error', reject);
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        out.push(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        buf = buf.subarray(2 + buf.readUInt16BE(0));
      }
      if (out.length === packets.length) {
        s.destroy();
        resolve(out);
      }
    });
    // One write with every frame: pipelined queries (RFC 7766 §6.2.1.1).
    s.write(Buffer.concat(packets.map((p) => Buffer.concat([Buffer.from([p.length >> 8, p.length & 255]), p]))));
  });
}

describe('DnsServer', () => {
  it('answers authoritatively over UDP, echoing the question as asked', async () => {
    const server = await serve();
    const res = decode(await udp(server.address.port, query('Web1.STORM.internal', 'A', { id: 77 })));
    expect([res.id, res.rcode, res.flag_aa, res.questions?.[0]?.name]).toEqual([77, 'NOERROR', true, 'Web1.STORM.internal']);
    expect(answerData(res)).toEqual(['10.77.0.10']);
  });

  it('answers pipelined queries over TCP on the same port', async () => {
    const server = await serve();
    const replies = (await tcp(server.address.port, [query('storm.local', 'A', { id: 1 }), query('storm.internal', 'MX', { id: 2 })])).map(
      decode,
    );
    expect(replies.map((r) => r.id).sort()).toEqual([1, 2]);
    expect(server.stats()).toMatchObject({ tcp: 2, tcpConnections: 1 });
  });

  it('truncates a UDP answer over 512 bytes, fits it within an EDNS size, and sends it whole over TCP', async () => {
    const server = await serve();
    const small = decode(await udp(server.address.port, query('big.storm.internal', 'TXT')));
    expect([small.flag_tc, small.answers?.length]).toEqual([true, 0]);
    const edns = decode(await udp(server.address.port, query('big.storm.internal', 'TXT', { edns: 4096 })));
    expect([edns.flag_tc, edns.answers?.length]).toEqual([false, 40]);
    const [whole] = (await tcp(server.address.port, [query('big.storm.internal', 'TXT')])).map(decode);
    expect([whole!.flag_tc, whole!.answers?.length]).toEqual([false, 40]);
    expect(server.stats().truncated).toBe(1);
  });

  it('refuses other names without an upstream, and FORMERRs or drops malformed queries', async () => {
    const server = await serve();
    expect(decode(await udp(server.address.port, query('example.org', 'A'))).rcode).toBe('REFUSED');
    const twoQuestions = query('storm.local', 'A');
    twoQuestions.writeUInt16BE(2, 4);
    expect(decode(await udp(server.address.port, twoQuestions)).rcode).toBe('FORMERR');
    expect(await udp(server.address.port, Buffer.from([1, 2, 3]), 300)).toBeUndefined();
    expect(server.stats()).toMatchObject({ queries: 3, dropped: 1, rcodes: { REFUSED: 1, FORMERR: 1 } });
  });

  it('answers BADVERS to an EDNS version it does not speak', async () => {
    const server = await serve();
    const q = query('storm.local', 'A', { edns: 1232 });
    q[q.length - 5] = 1; // the OPT record’s version byte
    const res = decode(await udp(server.address.port, q));
    const opt = res.additionals?.find((a) => a.type === 'OPT') as { extendedRcode: number } | undefined;
    expect(opt?.extendedRcode).toBe(1); // BADVERS = 16 = extended 1, header 0
  });

  it('sees a zone change at once when the source announces it', async () => {
    const zone = new MemoryZoneSource('10.77.0.1');
    const server = await serve(zone);
    expect(decode(await udp(server.address.port, query('web3.storm.internal', 'A'))).rcode).toBe('NXDOMAIN');
    zone.addInstance('web3', '10.77.0.13');
    expect(answerData(decode(await udp(server.address.port, query('web3.storm.internal', 'A'))))).toEqual(['10.77.0.13']);
  });

  it('forwards other names for clients allowed recursion, and refuses the rest', async () => {
    const upstreamZone = new MemoryZoneSource('10.99.0.1');
    const upstream = await serve(upstreamZone, { domain: 'upstream.test' });
    upstreamZone.addInstance('app', '10.99.0.5');
    const allowed = await serve(sampleZone(), { upstream: `127.0.0.1:${upstream.address.port}`, recursionNetworks: ['127.0.0.0/8'] });
    const res = decode(await udp(allowed.address.port, query('app.upstream.test', 'A', { id: 999 })));
    expect([res.id, res.rcode, answerData(res)[0]]).toEqual([999, 'NOERROR', '10.99.0.5']);
    expect(allowed.stats().upstream).toMatchObject({ forwarded: 1, answered: 1 });
    const outsider = await serve(sampleZone(), { upstream: `127.0.0.1:${upstream.address.port}` });
    expect(decode(await udp(outsider.address.port, query('app.upstream.test', 'A'))).rcode).toBe('REFUSED');
    expect(decode(await udp(outsider.address.port, query('web1.storm.internal', 'A'))).rcode).toBe('NOERROR');
  });

  it('answers SERVFAIL when the upstream does not answer in time', async () => {
    const silent = createSocket('udp4');
    await new Promise<void>((r) => silent.bind(0, '127.0.0.1', r));
    closers.push(() => new Promise((r) => silent.close(() => r())));
    const server = await serve(sampleZone(), {
      upstream: `127.0.0.1:${silent.address().port}`,
      upstreamTimeoutMs: 200,
      recursionNetworks: ['127.0.0.0/8'],
    });
    expect(decode(await udp(server.address.port, query('example.org', 'A'))).rcode).toBe('SERVFAIL');
    expect(server.stats().upstream?.timeouts).toBe(1);
  });

  it('stops reading a TCP client that leaves its answers unread, and keeps answering others', async () => {
    const server = await serve();
    const frame = query('big.storm.internal', 'TXT');
    const flood = connect(server.address.port, '127.0.0.1');
    flood.on('error', () => undefined);
    closers.push(async () => void flood.destroy());
    // 5,000 queries for a 1.5 KB answer, never read: far more than the kernel's buffers hold.
    await new Promise<void>((r) => flood.once('connect', r));
    flood.write(
      Buffer.concat(Array.from({ length: 5000 }, () => Buffer.concat([Buffer.from([frame.length >> 8, frame.length & 255]), frame]))),
    );
    // Until the server stops taking queries from it (it may be slow to get there on a loaded machine).
    let taken = -1;
    for (const until = Date.now() + 10_000; taken !== server.stats().tcp && Date.now() < until; ) {
      taken = server.stats().tcp;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(taken).toBeLessThan(5000);
    expect(answerData(decode(await udp(server.address.port, query('web1.storm.internal', 'A'))))).toEqual(['10.77.0.10']);
    expect((await tcp(server.address.port, [query('storm.local', 'A', { id: 5 })])).map((r) => decode(r).id)).toEqual([5]);
    await new Promise((r) => setTimeout(r, 300));
    expect(server.stats().tcp).toBe(taken + 1);
  }, 20_000);

  it('caps TCP connections per source address', async () => {
    const server = await serve(sampleZone(), { maxTcpPerSource: 2 });
    const open = (localAddress: string) =>
      new Promise<boolean>((resolve) => {
        const s = connect({ port: server.address.port, host: '127.0.0.1', localAddress });
        closers.push(async () => void s.destroy());
        s.on('error', () => resolve(false));
        s.on('close', () => resolve(false));
        s.on('connect', () => setTimeout(() => resolve(!s.destroyed), 200));
      });
    expect(await Promise.all([open('127.0.0.1'), open('127.0.0.1')])).toEqual([true, true]);
    expect(await open('127.0.0.1')).toBe(false);
    expect(await open('127.0.0.2')).toBe(true);
    expect(server.stats().tcpRejected).toBe(1);
  });
});
