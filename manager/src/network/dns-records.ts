/**
 * Registered DNS records (MX, SRV, TXT, CNAME): parsing their values, scoping their names, and
 * storing them. One text form everywhere (`registerRecord`, the API, the database):
 * MX `PREFERENCE EXCHANGE`, SRV `PRIORITY WEIGHT PORT TARGET`, TXT free text, CNAME `TARGET`.
 *
 * @example
 * const r = parseRecord('MX', '@', '10 @', 'mail1.storm.internal'); // { name: 'mail1.storm.internal', value: '10 mail1.storm.internal' }
 */
import { MgrErr } from '../errors.js';
import type { RegisteredRecord, RegisteredType } from './registered-record.js';

export const RECORD_TYPES: readonly RegisteredType[] = ['MX', 'SRV', 'TXT', 'CNAME'];
const LABEL = /^(?:_?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?|\*)$/;

/** `@` is `origin`; a name without the zone suffix is relative to `origin`; lower case, no trailing dot. */
export function qualify(name: string, origin: string, zone: string): string {
  const n = name.trim().toLowerCase().replace(/\.$/, '');
  if (n === '@' || n === '') return origin;
  const full = n === zone || n.endsWith(`.${zone}`) ? n : `${n}.${origin}`;
  if (full.length > 253 || !full.split('.').every((l) => LABEL.test(l)))
    throw MgrErr.MGR_ERR_VALIDATION(`not a DNS name: ${JSON.stringify(name)}`);
  return full;
}

const int = (s: string | undefined, max: number, what: string): number => {
  const n = Number(s);
  if (!/^\d+$/.test(s ?? '') || n > max) throw MgrErr.MGR_ERR_VALIDATION(`${what}: expected an integer 0-${max}, got ${JSON.stringify(s)}`);
  return n;
};

export interface ParsedRecord {
  readonly type: RegisteredType;
  readonly name: string;
  /** The canonical text form stored and shown. */
  readonly value: string;
}

/** Checks and canonicalizes a record; relative names resolve against `origin` (the instance's name, or the zone). */
export function parseRecord(type: string, name: string, value: string, origin: string, zone: string): ParsedRecord {
  const t = type.toUpperCase() as RegisteredType;
  if (!RECORD_TYPES.includes(t)) throw MgrErr.MGR_ERR_VALIDATION(`record type ${JSON.stringify(type)}: one of ${RECORD_TYPES.join(', ')}`);
  if (value.length > 1024 || /[\0-\x08\x0a-\x1f]/.test(value))
    throw MgrErr.MGR_ERR_VALIDATION('record value: at most 1024 printable characters');
  const owner = qualify(name, origin, zone);
  const parts = value.trim().split(/\s+/);
  switch (t) {
    case 'MX':
      if (parts.length !== 2) throw MgrErr.MGR_ERR_VALIDATION('MX value: "PREFERENCE EXCHANGE"');
      return { type: t, name: owner, value: `${int(parts[0], 65535, 'MX preference')} ${qualify(parts[1]!, origin, zone)}` };
    case 'SRV':
      if (parts.length !== 4) throw MgrErr.MGR_ERR_VALIDATION('SRV value: "PRIORITY WEIGHT PORT TARGET"');
      return {
        type: t,
        name: owner,
        value: `${int(parts[0], 65535, 'SRV priority')} ${int(parts[1], 65535, 'SRV weight')} ${int(parts[2], 65535, 'SRV port')} ${qualify(parts[3]!, origin, zone)}`,
      };
    case 'CNAME':
      if (parts.length !== 1) throw MgrErr.MGR_ERR_VALIDATION('CNAME value: one name');
      return { type: t, name: owner, value: qualify(parts[0]!, origin, zone) };
    default:
      return { type: t, name: owner, value };
  }
}

/** For a record an instance registers: its owner must be the instance's own name or below it (CNAME strictly below). */
export function checkInstanceScope(r: ParsedRecord, fqdn: string): void {
  const own = r.name === fqdn || r.name.endsWith(`.${fqdn}`);
  if (!own) throw MgrErr.MGR_ERR_FORBIDDEN(`${r.name} is not within this instance's names (${fqdn})`);
  if (r.type === 'CNAME' && r.name === fqdn) throw MgrErr.MGR_ERR_FORBIDDEN(`a CNAME at ${fqdn} would hide its address record`);
}

/** The DNS server's view of a stored record. */
export function toRegistered(row: { type: string; name: string; value: string; ttl: number | null }): RegisteredRecord {
  const ttl = row.ttl ?? undefined;
  const base = { name: row.name, ...(ttl === undefined ? {} : { ttl }) };
  const p = row.value.split(' ');
  switch (row.type) {
    case 'MX':
      return { ...base, type: 'MX', data: { preference: Number(p[0]), exchange: p[1]! } };
    case 'SRV':
      return { ...base, type: 'SRV', data: { priority: Number(p[0]), weight: Number(p[1]), port: Number(p[2]), target: p[3]! } };
    case 'CNAME':
      return { ...base, type: 'CNAME', data: row.value };
    default: {
      // TXT strings are at most 255 bytes each (RFC 1035 §3.3).
      const chunks: string[] = [];
      for (let i = 0; i < row.value.length; i += 255) chunks.push(row.value.slice(i, i + 255));
      return { ...base, type: 'TXT', data: chunks.length ? chunks : [''] };
    }
  }
}
