import { describe, expect, it } from 'vitest';
import { uplinkRuleset } from './uplink-rules.js';

const web = { protocol: 'tcp', port: 8080, address: '10.77.0.2', targetPort: 80, label: 'web1' } as const;

describe('uplink ruleset', () => {
  it('replaces only the table inet storm, atomically, whether or not it exists', () => {
    const lines = uplinkRuleset({ bridge: 'stormbr0', cidr: '10.77.0.0/24', forwards: [] }).split('\n');
    expect(lines.slice(0, 3)).toEqual(['table inet storm', 'delete table inet storm', 'table inet storm {']);
    // Nothing outside our table: no flush ruleset, no other table named.
    expect(lines.filter((l) => /^(table|delete|flush|add)\b/.test(l))).toEqual([
      'table inet storm',
      'delete table inet storm',
      'table inet storm {',
    ]);
  });

  it('masquerades the network out of any interface but the bridge, and lets nothing new in without a forward', () => {
    const script = uplinkRuleset({ bridge: 'stormbr0', cidr: '10.77.0.0/24', forwards: [] });
    expect(script).toContain('ip saddr 10.77.0.0/24 ip daddr != 10.77.0.0/24 oifname != "stormbr0" masquerade');
    const forward = script.slice(script.indexOf('chain forward'));
    expect(forward).toMatch(/oifname "stormbr0" ct state established,related accept\n\t\toifname "stormbr0" drop/);
    expect(script).not.toContain('dnat');
  });

  it('gives each forward a DNAT from outside and from the host, and accepts exactly its address and port', () => {
    const script = uplinkRuleset({
      bridge: 'br0',
      cidr: '10.77.0.0/24',
      forwards: [web, { protocol: 'udp', port: 5353, address: '10.77.0.3', targetPort: 53, label: 'dns1' }],
    });
    expect(script).toContain('iifname != "br0" fib daddr type local tcp dport 8080 dnat ip to 10.77.0.2:80 comment "tcp 8080 to web1:80"');
    expect(script).toContain('ip daddr != 127.0.0.0/8 fib daddr type local udp dport 5353 dnat ip to 10.77.0.3:53');
    expect(script).toContain('oifname "br0" ct status dnat ip daddr 10.77.0.2 tcp dport 80 accept');
    // The accepts come before the closing drop.
    expect(script.indexOf('udp dport 53 accept')).toBeLessThan(script.lastIndexOf('oifname "br0" drop'));
  });

  it('refuses values that would not be what they claim in the script', () => {
    const base = { bridge: 'br0', cidr: '10.77.0.0/24' };
    expect(() => uplinkRuleset({ ...base, bridge: 'br0" accept; #', forwards: [] })).toThrow(/interface/);
    expect(() => uplinkRuleset({ ...base, cidr: '10.77.0.0/24; flush ruleset', forwards: [] })).toThrow();
    expect(() => uplinkRuleset({ ...base, forwards: [{ ...web, port: 0 }] })).toThrow(/port/);
    expect(() => uplinkRuleset({ ...base, forwards: [{ ...web, targetPort: 70_000 }] })).toThrow(/port/);
    expect(() => uplinkRuleset({ ...base, forwards: [{ ...web, address: '10.77.0.2 drop' }] })).toThrow(/address/);
    expect(() => uplinkRuleset({ ...base, forwards: [{ ...web, label: 'x" drop' }] })).toThrow(/name/);
    expect(() => uplinkRuleset({ ...base, forwards: [{ ...web, protocol: 'icmp' as 'tcp' }] })).toThrow(/protocol/);
  });
});
