/**
 * The appliance network, from the config: the CIDR instances get addresses from, the manager's own
 * address there (what `storm.local` resolves to), the router, the DHCP pool and the URL guests use
 * for XML-RPC. Null when no `--network` is configured (instances then get no address).
 *
 * @example
 * const net = networkSettings(config, 8443);
 * net?.managerAddress; // '10.77.0.1'
 */
import { MgrErr } from '../errors.js';
import type { ManagerConfig } from '../config.js';
import { broadcastOf, type Cidr, inCidr, intToIp, parseCidr, tryIpToInt } from './ipv4.js';

export interface NetworkSettings {
  readonly cidr: Cidr;
  readonly cidrText: string;
  readonly domain: string;
  readonly managerAddress: string;
  readonly router: string | undefined;
  readonly pool: { readonly start: string; readonly end: string } | undefined;
  /** First and last address instances may be given (network, broadcast, manager, router and pool excluded by the allocator). */
  readonly first: number;
  readonly last: number;
  readonly excluded: ReadonlySet<number>;
  readonly poolRange: { readonly start: number; readonly end: number } | undefined;
}

function address(value: string, what: string, cidr: Cidr): number {
  const n = tryIpToInt(value);
  if (n === undefined || !inCidr(n, cidr))
    throw MgrErr.MGR_ERR_VALIDATION(`${what}: ${JSON.stringify(value)} is not an address in the appliance network`);
  return n;
}

export function networkSettings(config: ManagerConfig): NetworkSettings | null {
  if (!config.network) return null;
  let cidr: Cidr;
  try {
    cidr = parseCidr(config.network);
  } catch {
    throw MgrErr.MGR_ERR_VALIDATION(`--network: not an IPv4 CIDR: ${JSON.stringify(config.network)}`);
  }
  const broadcast = broadcastOf(cidr);
  const first = cidr.network + 1;
  const last = broadcast - 1;
  if (last - first < 2) throw MgrErr.MGR_ERR_VALIDATION(`--network ${config.network} is too small`);
  const manager = config.managerAddress ? address(config.managerAddress, '--manager-address', cidr) : first;
  // With an uplink the manager is the way out, so guests are told to route through it.
  const router = config.router ? address(config.router, '--router', cidr) : config.uplink === 'nat' ? manager : undefined;
  let poolRange: { start: number; end: number } | undefined;
  if (config.dhcpPool) {
    const [a, b] = config.dhcpPool.split('-');
    poolRange = { start: address(a ?? '', '--dhcp-pool start', cidr), end: address(b ?? '', '--dhcp-pool end', cidr) };
    if (poolRange.start > poolRange.end) throw MgrErr.MGR_ERR_VALIDATION('--dhcp-pool: start after end');
  }
  return {
    cidr,
    cidrText: config.network,
    domain: config.domain,
    managerAddress: intToIp(manager),
    router: router === undefined ? undefined : intToIp(router),
    pool: poolRange ? { start: intToIp(poolRange.start), end: intToIp(poolRange.end) } : undefined,
    first,
    last,
    excluded: new Set([manager, ...(router === undefined ? [] : [router])]),
    poolRange,
  };
}

/** The lowest address of the network not in `taken`, not excluded and outside the pool; undefined when full. */
export function nextFreeAddress(net: NetworkSettings, taken: ReadonlySet<number>): string | undefined {
  for (let n = net.first; n <= net.last; n++) {
    if (net.excluded.has(n) || taken.has(n)) continue;
    if (net.poolRange && n >= net.poolRange.start && n <= net.poolRange.end) continue;
    return intToIp(n);
  }
  return undefined;
}
