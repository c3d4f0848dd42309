/**
 * The LDAP server's settings, checked once and frozen.
 *
 * @example
 * const cfg = resolveLdapConfig({ listen: '10.77.0.1:389' });
 * cfg.baseDn; // 'dc=storm,dc=internal'
 */
import { parseHostPort } from '../../../../common/config.js';
import { baseDnFromDomain } from '../../directory/layout.js';
import { MgrErr } from '../../errors.js';
import { DnError, normalizeDn } from './dn.js';

export interface LdapServerConfig {
  /** `HOST:PORT` (`--ldap-listen`); port 0 picks a free one. */
  readonly listen: string;
  /** Base of the tree; default derived from `domain` (`dc=storm,dc=internal`). */
  readonly baseDn?: string;
  /** The instance zone the default base is derived from; default `storm.internal`. */
  readonly domain?: string;
  /** Open connections at most; more are closed at once. Default 256. */
  readonly maxConnections?: number;
  /** Open connections from one address at most; more are closed at once. Default 32. */
  readonly maxConnectionsPerSource?: number;
  /** Largest LDAPMessage accepted, bytes; a larger one ends the connection. Default 65536. */
  readonly maxMessageBytes?: number;
  /** A message must arrive whole within this long once its first byte has, ms. Default 10000. */
  readonly messageTimeoutMs?: number;
  /** A connection must bind successfully within this long, ms. Default 30000. */
  readonly bindTimeoutMs?: number;
  /** A connection with no traffic this long is closed, ms. Default 300000. */
  readonly idleTimeoutMs?: number;
  /** Entries one search returns at most (the client may ask for fewer). Default 1000. */
  readonly sizeLimit?: number;
  /** Requests read ahead of the one in work per connection before reading pauses. Default 32. */
  readonly maxQueuedPerConnection?: number;
  readonly maxFilterDepth?: number;
  readonly maxFilterNodes?: number;
  /** Refuse binds until the connection is in TLS (StartTLS), so no password crosses in clear. Default false. */
  readonly requireTls?: boolean;
}

export interface ResolvedLdapConfig {
  readonly host: string;
  readonly port: number;
  /** Normalized (lower case, no spaces), the form entries and REST views show. */
  readonly baseDn: string;
  readonly maxConnections: number;
  readonly maxConnectionsPerSource: number;
  readonly maxMessageBytes: number;
  readonly messageTimeoutMs: number;
  readonly bindTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly sizeLimit: number;
  readonly maxQueuedPerConnection: number;
  readonly maxFilterDepth: number;
  readonly maxFilterNodes: number;
  readonly requireTls: boolean;
}

function invalid(detail: string): never {
  throw MgrErr.MGR_ERR_LDAP_CONFIG(detail);
}

function bounded(value: number | undefined, fallback: number, min: number, max: number, what: string): number {
  const v = value ?? fallback;
  return Number.isInteger(v) && v >= min && v <= max ? v : invalid(`${what} must be an integer from ${min} to ${max}, got ${v}`);
}

/**
 * The directory's base DN, normalized: the configured one, else derived from the instance zone.
 * The REST routes' `dn` fields and the LDAP server must use the same value.
 */
export function directoryBaseDn(baseDn: string | undefined, domain = 'storm.internal'): string {
  let normalized: string;
  try {
    normalized = normalizeDn(baseDn ?? baseDnFromDomain(domain));
  } catch (err) {
    return invalid(err instanceof DnError ? `baseDn: ${err.message}` : 'baseDn: unreadable');
  }
  return normalized === '' ? invalid('baseDn must not be empty') : normalized;
}

export function resolveLdapConfig(c: LdapServerConfig): ResolvedLdapConfig {
  let listen: { host: string; port: number };
  try {
    listen = parseHostPort(c.listen, 'ldap-listen');
  } catch {
    return invalid(`listen: expected HOST:PORT, got ${JSON.stringify(c.listen)}`);
  }
  const baseDn = directoryBaseDn(c.baseDn, c.domain);
  return Object.freeze({
    host: listen.host || '0.0.0.0',
    port: listen.port,
    baseDn,
    maxConnections: bounded(c.maxConnections, 256, 1, 65_536, 'maxConnections'),
    maxConnectionsPerSource: bounded(c.maxConnectionsPerSource, 32, 1, 65_536, 'maxConnectionsPerSource'),
    maxMessageBytes: bounded(c.maxMessageBytes, 64 * 1024, 512, 16 * 1024 * 1024, 'maxMessageBytes'),
    messageTimeoutMs: bounded(c.messageTimeoutMs, 10_000, 10, 600_000, 'messageTimeoutMs'),
    bindTimeoutMs: bounded(c.bindTimeoutMs, 30_000, 10, 3_600_000, 'bindTimeoutMs'),
    idleTimeoutMs: bounded(c.idleTimeoutMs, 300_000, 10, 86_400_000, 'idleTimeoutMs'),
    sizeLimit: bounded(c.sizeLimit, 1000, 1, 1_000_000, 'sizeLimit'),
    maxQueuedPerConnection: bounded(c.maxQueuedPerConnection, 32, 1, 1024, 'maxQueuedPerConnection'),
    maxFilterDepth: bounded(c.maxFilterDepth, 32, 1, 256, 'maxFilterDepth'),
    maxFilterNodes: bounded(c.maxFilterNodes, 256, 1, 10_000, 'maxFilterNodes'),
    requireTls: c.requireTls ?? false,
  });
}
