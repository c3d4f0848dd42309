/**
 * The nftables ruleset of `--uplink nat`: one table of our own, `inet storm`, replaced as a whole in
 * one atomic `nft -f` transaction and never touching anyone else's. Guests leave through the host's
 * route, masqueraded; back in come only replies (conntrack) and the administrator's forwards, each a
 * DNAT from a port of the host to one instance's address and port, accepted for exactly that.
 *
 * @example
 * const script = uplinkRuleset({ bridge: 'stormbr0', cidr: '10.77.0.0/24', forwards: [{ protocol: 'tcp', port: 8080, address: '10.77.0.2', targetPort: 80, label: 'web1' }] });
 * // then: nft -f - <<<"$script"
 */
import { parseCidr, tryIpToInt } from './ipv4.js';

export const UPLINK_FAMILY = 'inet';
export const UPLINK_TABLE = 'storm';

export type ForwardProtocol = 'tcp' | 'udp';

export interface RenderedForward {
  readonly protocol: ForwardProtocol;
  /** The host's port the outside connects to. */
  readonly port: number;
  /** The instance's reserved address and the port it listens on. */
  readonly address: string;
  readonly targetPort: number;
  /** Shown as the rule's comment (the instance's name). */
  readonly label: string;
}

export interface UplinkRulesInput {
  readonly bridge: string;
  readonly cidr: string;
  readonly forwards: readonly RenderedForward[];
}

const IFACE = /^[A-Za-z0-9_.:-]{1,15}$/;
const LABEL = /^[a-z0-9][a-z0-9-]{0,62}$/;

function port(n: number, what: string): number {
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`${what}: not a port: ${n}`);
  return n;
}

/** Every value is checked before it reaches the script: nothing a request carries is pasted as is. */
function checked(input: UplinkRulesInput): UplinkRulesInput {
  if (!IFACE.test(input.bridge)) throw new Error(`not an interface name: ${JSON.stringify(input.bridge)}`);
  const cidr = parseCidr(input.cidr);
  for (const f of input.forwards) {
    if (f.protocol !== 'tcp' && f.protocol !== 'udp') throw new Error(`not a protocol: ${JSON.stringify(f.protocol)}`);
    port(f.port, 'port');
    port(f.targetPort, 'target port');
    if (tryIpToInt(f.address) === undefined) throw new Error(`not an IPv4 address: ${JSON.stringify(f.address)}`);
    if (!LABEL.test(f.label)) throw new Error(`not an instance name: ${JSON.stringify(f.label)}`);
  }
  return { ...input, cidr: `${input.cidr.split('/')[0]}/${cidr.prefix}` };
}

/** The whole table as an `nft -f` script that replaces whatever `inet storm` held, atomically. */
export function uplinkRuleset(input: UplinkRulesInput): string {
  const { bridge, cidr, forwards } = checked(input);
  const br = `"${bridge}"`;
  const table = `${UPLINK_FAMILY} ${UPLINK_TABLE}`;
  const dnat = (f: RenderedForward, match: string) =>
    `\t\t${match} ${f.protocol} dport ${f.port} dnat ip to ${f.address}:${f.targetPort} comment "${f.protocol} ${f.port} to ${f.label}:${f.targetPort}"`;
  return [
    // Declaring then deleting makes the replacement work whether or not the table exists, in one transaction.
    `table ${table}`,
    `delete table ${table}`,
    `table ${table} {`,
    `\tcomment "STORM appliance network uplink (storm-manager --uplink nat); removed when the manager stops"`,
    '\tchain prerouting {',
    '\t\ttype nat hook prerouting priority dstnat; policy accept;',
    // From outside the bridge to any of the host's own addresses.
    ...forwards.map((f) => dnat(f, `iifname != ${br} fib daddr type local`)),
    '\t}',
    '\tchain output {',
    // -100 is dstnat: Debian 12's nft 1.0.6 takes the name only on prerouting.
    '\t\ttype nat hook output priority -100; policy accept;',
    // The host's own clients reach a forward at its addresses too (loopback cannot be routed to a guest).
    ...forwards.map((f) => dnat(f, 'ip daddr != 127.0.0.0/8 fib daddr type local')),
    '\t}',
    '\tchain postrouting {',
    '\t\ttype nat hook postrouting priority srcnat; policy accept;',
    `\t\tip saddr ${cidr} ip daddr != ${cidr} oifname != ${br} masquerade`,
    '\t}',
    '\tchain forward {',
    '\t\ttype filter hook forward priority filter; policy accept;',
    // Guest to guest, when bridge netfilter shows bridged frames here.
    `\t\tiifname ${br} oifname ${br} accept`,
    `\t\tiifname ${br} ip saddr ${cidr} accept`,
    // Nothing leaves with an address that is not the appliance network's.
    `\t\tiifname ${br} drop`,
    `\t\toifname ${br} ct state established,related accept`,
    ...forwards.map((f) => `\t\toifname ${br} ct status dnat ip daddr ${f.address} ${f.protocol} dport ${f.targetPort} accept`),
    `\t\toifname ${br} drop`,
    '\t}',
    '}',
    '',
  ].join('\n');
}
