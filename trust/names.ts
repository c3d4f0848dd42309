/**
 * Names a certificate may carry in its subjectAltName: DNS host names (no wildcards) and IP
 * addresses. The CA decides these from the host's record; it never copies them from a CSR.
 */
import { isIP } from 'node:net';
import { PkiErr } from './errors.js';

export type AltName = { readonly kind: 'dns'; readonly value: string } | { readonly kind: 'ip'; readonly value: string };

/** forge's GeneralName shapes: type 2 is dNSName, type 7 is iPAddress. */
export type ForgeAltName = { type: 2; value: string } | { type: 7; ip: string };

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/**
 * Classifies and checks one name: an IPv4/IPv6 address becomes an IP SAN, anything else must be
 * a DNS host name (lowercased).
 *
 * @example
 * parseAltName('Host-1.Example'); // { kind: 'dns', value: 'host-1.example' }
 * parseAltName('10.0.0.5');       // { kind: 'ip', value: '10.0.0.5' }
 */
export function parseAltName(name: string): AltName {
  if (isIP(name)) return { kind: 'ip', value: name };
  const lower = name.toLowerCase();
  if (lower.length > 253 || !lower.split('.').every((label) => LABEL.test(label))) {
    throw PkiErr.MGR_ERR_PKI_NAME_INVALID(JSON.stringify(name));
  }
  return { kind: 'dns', value: lower };
}

/**
 * Parses, de-duplicates and keeps the order of a list of names (the first stays first).
 *
 * @example
 * parseAltNames(['storm.local', '127.0.0.1', 'storm.local']).length; // 2
 */
export function parseAltNames(names: readonly string[]): AltName[] {
  if (names.length === 0) throw PkiErr.MGR_ERR_PKI_NAME_INVALID('at least one name is needed');
  const seen = new Set<string>();
  const out: AltName[] = [];
  for (const name of names) {
    const parsed = parseAltName(name);
    const key = `${parsed.kind}:${parsed.value}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(parsed);
  }
  return out;
}

export function toForgeAltNames(names: readonly AltName[]): ForgeAltName[] {
  return names.map((n) => (n.kind === 'ip' ? { type: 7, ip: n.value } : { type: 2, value: n.value }));
}
