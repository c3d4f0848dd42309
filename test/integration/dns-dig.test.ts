/**
 * The DNS server against `dig`, none of our code on the client side: A, PTR, MX, SRV, NXDOMAIN,
 * NODATA, over UDP and TCP, truncation and the fallback to TCP, EDNS buffer sizes, forwarding to a
 * real upstream (dnsmasq on loopback) and refusal without one. Loopback only.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryZoneSource } from '../../manager/src/protocols/dns/memory-zone-source.js';
import { DnsServer } from '../../manager/src/protocols/dns/server.js';
import { sampleZone } from '../../manager/src/protocols/dns/test-support/fixtures.js';
import { haveCommand } from '../harness/netns.js';
import { startDnsmasq, type Dnsmasq } from '../harness/dnsmasq.js';

interface Dig {
  readonly status: string;
  readonly flags: string[];
  readonly answers: string[];
  readonly authority: string[];
  readonly tcp: boolean;
}

function dig(port: number, ...args: string[]): Promise<Dig> {
  return new Promise((resolve, reject) => {
    const child = spawn('dig', ['@127.0.0.1', '-p', String(port), '+time=2', '+tries=1', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('close', () => {
      const section = (name: string) => {
        const m = new RegExp(`;; ${name} SECTION:\\n([\\s\\S]*?)(?:\\n\\n|$)`).exec(out);
        return m
          ? m[1]!
              .split('\n')
              .filter(Boolean)
              .map((l) => l.split(/\s+/).slice(3).join(' '))
          : [];
      };
      resolve({
        status: /status: (\w+)/.exec(out)?.[1] ?? 'none',
        flags: (/;; flags: ([a-z ]+);/.exec(out)?.[1] ?? '').trim().split(' '),
        answers: section('ANSWER'),
        authority: section('AUTHORITY'),
        tcp: /\(TCP\)/.test(out),
      });
    });
  });
}

describe.skipIf(!haveCommand('dig'))('DNS with dig', () => {
  let server: DnsServer;
  let port: number;

  beforeAll(async () => {
    server = new DnsServer({ listen: '127.0.0.1:0', networks: ['10.77.0.0/24'] }, { zone: sampleZone() });
    await server.start();
    port = server.address.port;
  });
  afterAll(() => server.close());

  for (const transport of ['+notcp', '+tcp']) {
    describe(transport === '+tcp' ? 'over TCP' : 'over UDP', () => {
      it('A of an instance and of storm.local, authoritative', async () => {
        const r = await dig(port, transport, 'web1.storm.internal', 'A');
        expect([r.status, r.flags.includes('aa'), r.answers, r.tcp]).toEqual(['NOERROR', true, ['A 10.77.0.10'], transport === '+tcp']);
        expect((await dig(port, transport, 'storm.local')).answers).toEqual(['A 10.77.0.1']);
      });

      it('PTR of a reserved address', async () => {
        expect((await dig(port, transport, '-x', '10.77.0.11')).answers).toEqual(['PTR web2.storm.internal.']);
      });

      it('MX and SRV registered by appliances', async () => {
        expect((await dig(port, transport, 'storm.internal', 'MX')).answers).toEqual(['MX 10 mail.storm.internal.']);
        expect((await dig(port, transport, '_ldap._tcp.storm.internal', 'SRV')).answers).toEqual(['SRV 0 5 389 storm.local.']);
      });

      it('NXDOMAIN for a missing name, NODATA for a missing type, both with the SOA', async () => {
        const nx = await dig(port, transport, 'nobody.storm.internal', 'A');
        expect([nx.status, nx.answers, nx.authority[0]?.split(' ')[0]]).toEqual(['NXDOMAIN', [], 'SOA']);
        const nodata = await dig(port, transport, 'web1.storm.internal', 'AAAA');
        expect([nodata.status, nodata.answers, nodata.authority[0]?.split(' ')[0]]).toEqual(['NOERROR', [], 'SOA']);
      });
    });
  }

  it('is case-insensitive and follows an in-zone CNAME', async () => {
    expect((await dig(port, 'WWW.Storm.INTERNAL')).answers).toEqual(['CNAME web1.storm.internal.', 'A 10.77.0.10']);
  });

  it('truncates a large UDP answer; dig retries over TCP and gets it whole', async () => {
    const truncated = await dig(port, '+noedns', '+ignore', 'big.storm.internal', 'TXT');
    expect([truncated.flags.includes('tc'), truncated.answers.length]).toEqual([true, 0]);
    const retried = await dig(port, '+noedns', 'big.storm.internal', 'TXT');
    expect([retried.tcp, retried.answers.length]).toEqual([true, 40]);
  });

  it('fits a large answer in UDP when +bufsize allows, truncates when it does not', async () => {
    const big = await dig(port, '+bufsize=4096', 'big.storm.internal', 'TXT');
    expect([big.tcp, big.flags.includes('tc'), big.answers.length]).toEqual([false, false, 40]);
    const small = await dig(port, '+bufsize=1000', '+ignore', 'big.storm.internal', 'TXT');
    expect(small.flags.includes('tc')).toBe(true);
  });

  it('refuses names outside its zones when no upstream is set', async () => {
    expect((await dig(port, 'example.org')).status).toBe('REFUSED');
  });
});

describe.skipIf(!haveCommand('dig') || !haveCommand('dnsmasq'))('DNS forwarding to a real upstream', () => {
  let upstream: Dnsmasq;
  const servers: DnsServer[] = [];

  beforeAll(async () => {
    upstream = await startDnsmasq(['--host-record=app.upstream.test,10.99.0.5']);
  });
  afterAll(async () => {
    for (const s of servers) await s.close();
    await upstream?.stop();
  });

  async function serve(recursionNetworks: string[]): Promise<number> {
    const s = new DnsServer(
      { listen: '127.0.0.1:0', networks: ['10.77.0.0/24'], recursionNetworks, upstream: `127.0.0.1:${upstream.port}` },
      { zone: new MemoryZoneSource('10.77.0.1') },
    );
    await s.start();
    servers.push(s);
    return s.address.port;
  }

  it('forwards for clients in the appliance networks, with recursion available', async () => {
    const r = await dig(await serve(['127.0.0.0/8']), 'app.upstream.test');
    expect([r.status, r.answers, r.flags.includes('ra')]).toEqual(['NOERROR', ['A 10.99.0.5'], true]);
  });

  it('refuses to recurse for anyone else', async () => {
    expect((await dig(await serve([]), 'app.upstream.test')).status).toBe('REFUSED');
  });
});
