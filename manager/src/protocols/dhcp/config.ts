/**
 * The DHCP server's settings, checked once and turned into numbers the hot path can use.
 *
 * @example
 * const cfg = resolveDhcpConfig({ serverIp: '10.77.0.1', subnet: '10.77.0.0/24', router: '10.77.0.1',
 *   dnsServers: ['10.77.0.1'], domain: 'storm.internal', leaseTime: 3600 });
 */
import { MgrErr } from '../../errors.js';
import { broadcastOf, type Cidr, inCidr, intToIp, ipToInt, parseCidr, tryIpToInt } from '../../network/ipv4.js';

export interface DhcpServerConfig {
  /** The appliance network's interface (`--dhcp-interface`); when set, start() checks that it carries `serverIp`. */
  readonly interface?: string;
  /** This server's address on the appliance network: option 54 and the source of replies. */
  readonly serverIp: string;
  /** The appliance network, e.g. `10.77.0.0/24`: gives the mask (option 1) and the broadcast address. */
  readonly subnet: string;
  /** Option 3; omitted when the network has no router. */
  readonly router?: string;
  /** Option 6, usually the manager's own DNS address. */
  readonly dnsServers: readonly string[];
  /** Option 15, the zone instances are named in. */
  readonly domain: string;
  /** Option 51, seconds. */
  readonly leaseTime: number;
  /** Addresses handed to MACs without a reservation; without it an unknown MAC gets nothing. */
  readonly pool?: { readonly start: string; readonly end: string };
  /** Default `0.0.0.0`. */
  readonly bindAddress?: string;
  /** Default 67; tests use a free port. */
  readonly serverPort?: number;
  /** Default 68. */
  readonly clientPort?: number;
  /** Where broadcast replies go; default the subnet's directed broadcast (see docs/network-services.md). */
  readonly broadcastAddress?: string;
  /** How long an OFFER holds its address, ms. Default 60 s. */
  readonly offerHoldMs?: number;
  /** How long a DECLINEd address is not offered, ms. Default 10 min. */
  readonly declineHoldMs?: number;
  /** Packets handled at once; more are dropped and counted. Default 1024. */
  readonly maxInFlight?: number;
}

export interface ResolvedDhcpConfig {
  readonly interface: string | undefined;
  readonly serverIp: string;
  readonly subnet: Cidr;
  readonly mask: string;
  readonly router: string | undefined;
  readonly dnsServers: readonly string[];
  readonly domain: string;
  readonly leaseTime: number;
  readonly pool: { readonly start: number; readonly end: number } | undefined;
  readonly bindAddress: string;
  readonly serverPort: number;
  readonly clientPort: number;
  readonly broadcastAddress: string;
  readonly offerHoldMs: number;
  readonly declineHoldMs: number;
  readonly maxInFlight: number;
}

function invalid(detail: string): never {
  throw MgrErr.MGR_ERR_DHCP_CONFIG(detail);
}

function address(value: string, what: string): number {
  const n = tryIpToInt(value);
  return n === undefined ? invalid(`${what} is not an IPv4 address: ${JSON.stringify(value)}`) : n;
}

function port(value: number | undefined, fallback: number, what: string): number {
  const p = value ?? fallback;
  return Number.isInteger(p) && p >= 0 && p <= 65535 ? p : invalid(`${what} is not a port: ${p}`);
}

export function resolveDhcpConfig(c: DhcpServerConfig): ResolvedDhcpConfig {
  let subnet: Cidr;
  try {
    subnet = parseCidr(c.subnet);
  } catch {
    return invalid(`subnet is not a CIDR: ${JSON.stringify(c.subnet)}`);
  }
  if (subnet.prefix > 30) invalid(`subnet ${c.subnet} has no room for clients`);
  const inSubnet = (n: number, what: string) => inCidr(n, subnet) || invalid(`${what} ${intToIp(n)} is outside ${c.subnet}`);
  inSubnet(address(c.serverIp, 'serverIp'), 'serverIp');
  if (c.router !== undefined) inSubnet(address(c.router, 'router'), 'router');
  for (const d of c.dnsServers) address(d, 'dnsServers');
  if (!/^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/i.test(c.domain)) invalid(`domain is not a DNS name: ${JSON.stringify(c.domain)}`);
  if (!Number.isInteger(c.leaseTime) || c.leaseTime < 60 || c.leaseTime > 0x7fffffff)
    invalid(`leaseTime must be 60 s or more: ${c.leaseTime}`);
  let pool: ResolvedDhcpConfig['pool'];
  if (c.pool) {
    const start = inSubnet(address(c.pool.start, 'pool.start'), 'pool.start') && ipToInt(c.pool.start);
    const end = inSubnet(address(c.pool.end, 'pool.end'), 'pool.end') && ipToInt(c.pool.end);
    if (end < start) invalid(`pool ends before it starts: ${c.pool.start}-${c.pool.end}`);
    pool = { start, end };
  }
  const broadcastAddress = c.broadcastAddress ?? intToIp(broadcastOf(subnet));
  address(broadcastAddress, 'broadcastAddress');
  return Object.freeze({
    interface: c.interface,
    serverIp: c.serverIp,
    subnet,
    mask: intToIp(subnet.mask),
    router: c.router,
    dnsServers: [...c.dnsServers],
    domain: c.domain.toLowerCase(),
    leaseTime: c.leaseTime,
    pool,
    bindAddress: c.bindAddress ?? '0.0.0.0',
    serverPort: port(c.serverPort, 67, 'serverPort'),
    clientPort: port(c.clientPort, 68, 'clientPort'),
    broadcastAddress,
    offerHoldMs: c.offerHoldMs ?? 60_000,
    declineHoldMs: c.declineHoldMs ?? 600_000,
    maxInFlight: c.maxInFlight ?? 1024,
  });
}
