/**
 * A zone and query helpers shared by the DNS unit tests, integration tests and the benchmark.
 *
 * @example
 * const zone = sampleZone();
 * const raw = query('web1.storm.internal', 'A', { edns: 1232 });
 */
import dnsPacket, { type DecodedPacket, type RecordType } from 'dns-packet';
import { MemoryZoneSource } from '../memory-zone-source.js';

export const MANAGER_IP = '10.77.0.1';

/** web1/web2 instances, an MX at the apex, an SRV, a CNAME, a TXT and a record set too big for 512 bytes. */
export function sampleZone(): MemoryZoneSource {
  const zone = new MemoryZoneSource(MANAGER_IP);
  zone.addInstance('web1', '10.77.0.10');
  zone.addInstance('web2', '10.77.0.11');
  zone.addRecord({ name: 'storm.internal', type: 'MX', data: { preference: 10, exchange: 'mail.storm.internal' } });
  zone.addRecord({ name: '_ldap._tcp.storm.internal', type: 'SRV', data: { priority: 0, weight: 5, port: 389, target: 'storm.local' } });
  zone.addRecord({ name: 'www.storm.internal', type: 'CNAME', data: 'web1.storm.internal' });
  zone.addRecord({ name: 'outside.storm.internal', type: 'CNAME', data: 'example.org' });
  zone.addRecord({ name: 'web1.storm.internal', type: 'TXT', data: ['role=web'] });
  for (let i = 0; i < 40; i++)
    zone.addRecord({ name: 'big.storm.internal', type: 'TXT', data: [`record ${i} of a set larger than one datagram`] });
  return zone;
}

export function query(name: string, type: RecordType, opts: { id?: number; edns?: number; rd?: boolean } = {}): Buffer {
  return dnsPacket.encode({
    type: 'query',
    id: opts.id ?? 4242,
    flags: opts.rd === false ? 0 : dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type, class: 'IN' }],
    additionals: opts.edns
      ? [{ type: 'OPT', name: '.', udpPayloadSize: opts.edns, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }]
      : [],
  });
}

export function decode(buf: Buffer | undefined): DecodedPacket & { rcode?: string } {
  if (!buf) throw new Error('no answer');
  return dnsPacket.decode(buf) as DecodedPacket & { rcode?: string };
}

/** The data of each answer record (OPT records have none). */
export function answerData(p: DecodedPacket): unknown[] {
  return (p.answers ?? []).map((a) => ('data' in a ? a.data : undefined));
}
