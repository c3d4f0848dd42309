import { describe, expect, it } from 'vitest';
import { Authority } from './authority.js';
import { resolveDnsConfig } from './config.js';
import { MANAGER_IP, sampleZone } from './test-support/fixtures.js';

const auth = () => new Authority(resolveDnsConfig({ listen: '127.0.0.1:0', networks: ['10.77.0.0/24'] }), sampleZone());
const data = (a: Awaited<ReturnType<Authority['answer']>>) => a.answers.map((r) => ('data' in r ? r.data : undefined));

describe('Authority', () => {
  it('knows which zone of ours holds a name', () => {
    const a = auth();
    expect(a.zoneOf('storm.local')).toBe('storm.local');
    expect(a.zoneOf('web1.storm.internal')).toBe('storm.internal');
    expect(a.zoneOf('10.0.77.10.in-addr.arpa')).toBe('0.77.10.in-addr.arpa');
    expect(a.zoneOf('0.77.10.in-addr.arpa')).toBe('0.77.10.in-addr.arpa');
    expect(a.zoneOf('1.0.78.10.in-addr.arpa')).toBeUndefined();
    expect(a.zoneOf('example.org')).toBeUndefined();
  });

  it('answers storm.local with the manager', async () => {
    expect(data(await auth().answer('storm.local', 'A'))).toEqual([MANAGER_IP]);
  });

  it('answers instance A and PTR from the reservations', async () => {
    const a = auth();
    expect(data(await a.answer('web1.storm.internal', 'A'))).toEqual(['10.77.0.10']);
    expect(data(await a.answer('11.0.77.10.in-addr.arpa', 'PTR'))).toEqual(['web2.storm.internal']);
    expect(data(await a.answer('1.0.77.10.in-addr.arpa', 'PTR'))).toEqual(['storm.local']);
  });

  it('answers registered MX, SRV and TXT', async () => {
    const a = auth();
    expect(data(await a.answer('storm.internal', 'MX'))).toEqual([{ preference: 10, exchange: 'mail.storm.internal' }]);
    expect(data(await a.answer('_ldap._tcp.storm.internal', 'SRV'))).toEqual([
      { priority: 0, weight: 5, port: 389, target: 'storm.local' },
    ]);
    expect(data(await a.answer('web1.storm.internal', 'TXT'))).toEqual([['role=web']]);
  });

  it('follows a CNAME inside the zone and stops at one that leaves it', async () => {
    const a = auth();
    expect(data(await a.answer('www.storm.internal', 'A'))).toEqual(['web1.storm.internal', '10.77.0.10']);
    expect(data(await a.answer('outside.storm.internal', 'A'))).toEqual(['example.org']);
    expect(data(await a.answer('www.storm.internal', 'CNAME'))).toEqual(['web1.storm.internal']);
  });

  it('tells NXDOMAIN from NODATA, both with the SOA', async () => {
    const a = auth();
    const nx = await a.answer('nope.storm.internal', 'A');
    expect([nx.rcode, nx.answers.length, nx.authorities[0]?.type]).toEqual(['NXDOMAIN', 0, 'SOA']);
    const nodata = await a.answer('web1.storm.internal', 'AAAA');
    expect([nodata.rcode, nodata.answers.length, nodata.authorities[0]?.type]).toEqual(['NOERROR', 0, 'SOA']);
    expect((await a.answer('_tcp.storm.internal', 'A')).rcode).toBe('NOERROR'); // empty non-terminal
    expect((await a.answer('99.0.77.10.in-addr.arpa', 'PTR')).rcode).toBe('NXDOMAIN');
    expect((await a.answer('www.storm.local', 'A')).rcode).toBe('NXDOMAIN');
  });

  it('has SOA and NS at each apex', async () => {
    const a = auth();
    const soa = await a.answer('storm.internal', 'SOA');
    expect(soa.answers[0]).toMatchObject({ type: 'SOA', data: { mname: 'storm.local', rname: 'hostmaster.storm.internal' } });
    expect(data(await a.answer('storm.internal', 'NS'))).toEqual(['storm.local']);
    expect(data(await a.answer('0.77.10.in-addr.arpa', 'NS'))).toEqual(['storm.local']);
  });

  it('bumps the SOA serial when the zone changes', async () => {
    const a = auth();
    const serial = async () => ((await a.answer('storm.internal', 'SOA')).answers[0] as { data: { serial: number } }).data.serial;
    const before = await serial();
    a.changed();
    expect(await serial()).toBe(before + 1);
  });
});
