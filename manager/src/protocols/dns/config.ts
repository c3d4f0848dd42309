/**
 * The DNS server's settings, checked once.
 *
 * @example
 * const cfg = resolveDnsConfig({ listen: '10.77.0.1:53', networks: ['10.77.0.0/24'], upstream: '10.0.0.53:53' });
 * cfg.domain; // 'storm.internal'
 */
import { isIP } from 'node:net';
import { parseHostPort } from '../../../../common/config.js';
import { MgrErr } from '../../errors.js';
import { type Cidr, parseCidr } from '../../network/ipv4.js';

/** The zone instances are named in by default: `.internal` is reserved for private use (ICANN, 2024). */
export const DEFAULT_DOMAIN = 'storm.internal';
/** The name appliances reach the manager by. */
export const MANAGER_NAME = 'storm.local';

export interface DnsServerConfig {
  /** `HOST:PORT` for both UDP and TCP (`--dns-listen`); port 0 picks a free one. */
  readonly listen: string;
  /** The zone instances are named in; default `storm.internal`. */
  readonly domain?: string;
  /** Appliance networks: clients here may recurse, and their reverse names are ours. */
  readonly networks: readonly string[];
  /** Extra client networks allowed recursion (e.g. `127.0.0.0/8` for tests); never authoritative. */
  readonly recursionNetworks?: readonly string[];
  /** `IP:PORT` of the resolver other names go to; without it they are REFUSED. */
  readonly upstream?: string;
  /** Upstream answer wait, ms. Default 2000. */
  readonly upstreamTimeoutMs?: number;
  /** Upstream queries in flight at once; more get SERVFAIL. Default 1024. */
  readonly maxOutstanding?: number;
  /** TTL of our records, seconds. Default 60. */
  readonly ttl?: number;
  /** How long an answer built from the ZoneSource is reused, ms; 0 disables. A source with `onChange` clears it on every change. Default 5000. */
  readonly cacheTtlMs?: number;
  /** Cached answers kept at most. Default 10000. */
  readonly cacheEntries?: number;
  /** Open TCP connections at most. Default 256. */
  readonly maxTcpConnections?: number;
  /** Open TCP connections from one address at most. Default 32. */
  readonly maxTcpPerSource?: number;
  /** A TCP connection idle this long is closed, ms. Default 10000. */
  readonly tcpIdleMs?: number;
}

export interface ResolvedDnsConfig {
  readonly host: string;
  readonly port: number;
  readonly domain: string;
  readonly networks: readonly Cidr[];
  readonly recursionNetworks: readonly Cidr[];
  readonly upstream: { readonly host: string; readonly port: number } | undefined;
  readonly upstreamTimeoutMs: number;
  readonly maxOutstanding: number;
  readonly ttl: number;
  readonly cacheTtlMs: number;
  readonly cacheEntries: number;
  readonly maxTcpConnections: number;
  readonly maxTcpPerSource: number;
  readonly tcpIdleMs: number;
}

function invalid(detail: string): never {
  throw MgrErr.MGR_ERR_DNS_CONFIG(detail);
}

function cidrs(list: readonly string[], what: string): Cidr[] {
  return list.map((c) => {
    try {
      return parseCidr(c);
    } catch {
      return invalid(`${what}: not an IPv4 CIDR: ${JSON.stringify(c)}`);
    }
  });
}

function hostPort(value: string, what: string): { host: string; port: number } {
  try {
    return parseHostPort(value, what);
  } catch {
    return invalid(`${what}: expected HOST:PORT, got ${JSON.stringify(value)}`);
  }
}

export function resolveDnsConfig(c: DnsServerConfig): ResolvedDnsConfig {
  const listen = hostPort(c.listen, 'listen');
  if (!isIP(listen.host)) invalid(`listen host must be an IP address: ${JSON.stringify(listen.host)}`);
  const domain = (c.domain ?? DEFAULT_DOMAIN).toLowerCase().replace(/\.$/, '');
  if (!/^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(domain) || domain.length > 200) {
    invalid(`domain is not a DNS name: ${JSON.stringify(c.domain)}`);
  }
  if (domain === MANAGER_NAME) invalid(`domain must differ from ${MANAGER_NAME}`);
  const upstream = c.upstream === undefined ? undefined : hostPort(c.upstream, 'upstream');
  if (upstream && (!isIP(upstream.host) || upstream.port === 0)) invalid(`upstream must be IP:PORT: ${JSON.stringify(c.upstream)}`);
  const networks = cidrs(c.networks, 'networks');
  const positive = (v: number | undefined, fallback: number, what: string, min = 1) => {
    const n = v ?? fallback;
    return Number.isInteger(n) && n >= min ? n : invalid(`${what} must be an integer ≥ ${min}: ${n}`);
  };
  return Object.freeze({
    host: listen.host,
    port: listen.port,
    domain,
    networks,
    recursionNetworks: [...networks, ...cidrs(c.recursionNetworks ?? [], 'recursionNetworks')],
    upstream,
    upstreamTimeoutMs: positive(c.upstreamTimeoutMs, 2000, 'upstreamTimeoutMs'),
    maxOutstanding: positive(c.maxOutstanding, 1024, 'maxOutstanding'),
    ttl: positive(c.ttl, 60, 'ttl', 0),
    cacheTtlMs: positive(c.cacheTtlMs, 5000, 'cacheTtlMs', 0),
    cacheEntries: positive(c.cacheEntries, 10_000, 'cacheEntries'),
    maxTcpConnections: positive(c.maxTcpConnections, 256, 'maxTcpConnections'),
    maxTcpPerSource: positive(c.maxTcpPerSource, 32, 'maxTcpPerSource'),
    tcpIdleMs: positive(c.tcpIdleMs, 10_000, 'tcpIdleMs'),
  });
}
