/**
 * Which addresses the manager may fetch channels and layers from. Denied by default: loopback,
 * link-local (cloud metadata lives at 169.254.169.254), unspecified and multicast; an allow list
 * (`--channel-allow 127.0.0.0/8`) re-opens a range, a deny list closes more.
 *
 * @example
 * const policy = new AddressPolicy({ allow: ['127.0.0.0/8'] });
 * policy.check('169.254.169.254'); // { allowed: false, reason: 'link-local …' }
 */
import { BlockList, isIP } from 'node:net';

const DEFAULT_DENY: readonly [string, string][] = [
  ['127.0.0.0/8', 'loopback'],
  ['::1/128', 'loopback'],
  ['169.254.0.0/16', 'link-local (cloud metadata)'],
  ['fe80::/10', 'link-local'],
  ['fd00:ec2::254/128', 'cloud metadata'],
  ['0.0.0.0/8', 'unspecified'],
  ['::/128', 'unspecified'],
  ['224.0.0.0/4', 'multicast'],
  ['ff00::/8', 'multicast'],
  ['255.255.255.255/32', 'broadcast'],
];

export interface AddressPolicyOptions {
  /** CIDRs allowed even when a default rule denies them. */
  readonly allow?: readonly string[];
  /** Extra CIDRs to deny. */
  readonly deny?: readonly string[];
}

export type PolicyVerdict = { readonly allowed: true } | { readonly allowed: false; readonly reason: string };

function parseCidr(cidr: string): { net: string; prefix: number; family: 'ipv4' | 'ipv6' } {
  const [net, bits] = cidr.split('/');
  const version = isIP(net ?? '');
  const prefix = bits === undefined ? (version === 4 ? 32 : 128) : Number(bits);
  if (!net || version === 0 || !Number.isInteger(prefix) || prefix < 0 || prefix > (version === 4 ? 32 : 128)) {
    throw new Error(`not a CIDR: ${JSON.stringify(cidr)}`);
  }
  return { net, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

function listOf(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const c of cidrs) {
    const { net, prefix, family } = parseCidr(c);
    list.addSubnet(net, prefix, family);
  }
  return list;
}

export class AddressPolicy {
  private readonly allow: BlockList;
  private readonly deny: BlockList;
  private readonly defaults: { list: BlockList; reason: string }[];

  constructor(options: AddressPolicyOptions = {}) {
    this.allow = listOf(options.allow ?? []);
    this.deny = listOf(options.deny ?? []);
    this.defaults = DEFAULT_DENY.map(([cidr, reason]) => ({ list: listOf([cidr]), reason: `${reason} ${cidr}` }));
  }

  /** Validates CIDR lists without building a policy (config validation). */
  static validate(cidrs: readonly string[]): void {
    for (const c of cidrs) parseCidr(c);
  }

  check(address: string): PolicyVerdict {
    const version = isIP(address);
    if (version === 0) return { allowed: false, reason: `not an IP address: ${address}` };
    const family = version === 4 ? 'ipv4' : 'ipv6';
    if (this.deny.check(address, family)) return { allowed: false, reason: `denied by --channel-deny: ${address}` };
    if (this.allow.check(address, family)) return { allowed: true };
    const hit = this.defaults.find((d) => d.list.check(address, family));
    return hit ? { allowed: false, reason: `${address} is ${hit.reason}; allow it with --channel-allow` } : { allowed: true };
  }
}
