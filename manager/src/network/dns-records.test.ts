import { describe, expect, it } from 'vitest';
import { checkInstanceScope, parseRecord, qualify, toRegistered } from './dns-records.js';

const zone = 'storm.internal';
const fqdn = 'mail1.storm.internal';

describe('registered records', () => {
  it('qualifies @, relative and absolute names', () => {
    expect(qualify('@', fqdn, zone)).toBe(fqdn);
    expect(qualify('_smtp._tcp', fqdn, zone)).toBe('_smtp._tcp.mail1.storm.internal');
    expect(qualify('Other.Storm.Internal.', fqdn, zone)).toBe('other.storm.internal');
    expect(() => qualify('bad name', fqdn, zone)).toThrow(/not a DNS name/);
  });

  it('canonicalizes MX, SRV, CNAME and keeps TXT text', () => {
    expect(parseRecord('mx', '@', '10  @', fqdn, zone)).toEqual({ type: 'MX', name: fqdn, value: `10 ${fqdn}` });
    expect(parseRecord('SRV', '_smtp._tcp', '0 5 25 @', fqdn, zone).value).toBe(`0 5 25 ${fqdn}`);
    expect(parseRecord('CNAME', 'www', '@', fqdn, zone)).toEqual({ type: 'CNAME', name: `www.${fqdn}`, value: fqdn });
    expect(parseRecord('TXT', '@', 'v=spf1 mx -all', fqdn, zone).value).toBe('v=spf1 mx -all');
    expect(() => parseRecord('A', '@', '1.2.3.4', fqdn, zone)).toThrow(/one of MX/);
    expect(() => parseRecord('MX', '@', '70000 @', fqdn, zone)).toThrow(/0-65535/);
    expect(() => parseRecord('SRV', '@', '1 2 3', fqdn, zone)).toThrow(/PRIORITY WEIGHT PORT TARGET/);
  });

  it('keeps instances inside their own names', () => {
    expect(() => checkInstanceScope(parseRecord('MX', '@', '10 @', fqdn, zone), fqdn)).not.toThrow();
    expect(() => checkInstanceScope(parseRecord('MX', 'storm.internal', '10 @', fqdn, zone), fqdn)).toThrow(/not within/);
    expect(() => checkInstanceScope(parseRecord('TXT', 'web1.storm.internal', 'x', fqdn, zone), fqdn)).toThrow(/not within/);
    expect(() => checkInstanceScope(parseRecord('CNAME', '@', 'web1.storm.internal', fqdn, zone), fqdn)).toThrow(/hide/);
  });

  it('turns stored rows into DNS data, splitting long TXT', () => {
    expect(toRegistered({ type: 'MX', name: fqdn, value: `10 ${fqdn}`, ttl: null })).toEqual({
      name: fqdn,
      type: 'MX',
      data: { preference: 10, exchange: fqdn },
    });
    const txt = toRegistered({ type: 'TXT', name: fqdn, value: 'x'.repeat(300), ttl: 30 });
    expect(txt).toMatchObject({ ttl: 30, data: ['x'.repeat(255), 'x'.repeat(45)] });
  });
});
