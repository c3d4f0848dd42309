/**
 * Distinguished names (RFC 4514): parsed strictly enough to refuse nonsense (an empty RDN, a
 * missing `=`, a bad escape), leniently enough for what people type (spaces after commas, any
 * case, aliases such as `userid`). `normalizeDn` is the key entries are found by.
 *
 * @example
 * normalizeDn('UID=Alice, OU=People,DC=storm,DC=internal'); // 'uid=alice,ou=people,dc=storm,dc=internal'
 * normalizeDn('cn=a,,dc=x'); // throws DnError
 */
import { escapeDnValue } from '../../directory/layout.js';
import { attributeType, type MatchingRule, prepare } from './schema.js';

export class DnError extends Error {
  override readonly name = 'DnError';
}

export interface Ava {
  /** Canonical name for known types (`uid`), lower-cased as given otherwise. */
  readonly type: string;
  /** Unescaped value as given. */
  readonly value: string;
}

/** RDNs from the leaf up; each RDN is one or more AVAs. */
export type Dn = readonly (readonly Ava[])[];

const TYPE = /^(?:[A-Za-z][A-Za-z0-9-]*|\d+(?:\.\d+)*)$/;
const HEX = /^[0-9A-Fa-f]{2}$/;
const SPECIAL = new Set([' ', '"', '#', '+', ',', ';', '<', '=', '>', '\\']);
const utf8 = new TextDecoder('utf-8', { fatal: true });

export function parseDn(input: string): Dn {
  if (input.trim() === '') return [];
  const rdns: Ava[][] = [];
  let rdn: Ava[] = [];
  let i = 0;
  const fail = (why: string): never => {
    throw new DnError(`invalid DN ${JSON.stringify(input.slice(0, 200))}: ${why}`);
  };
  for (;;) {
    const eq = input.indexOf('=', i);
    if (eq < 0) fail('an RDN without "="');
    const rawType = input.slice(i, eq).trim();
    if (!TYPE.test(rawType)) fail(`attribute type ${JSON.stringify(rawType)}`);
    i = eq + 1;
    while (input[i] === ' ') i++;
    const bytes: number[] = [];
    let trailingSpaces = 0;
    if (input[i] === '#') fail('BER-encoded values are not supported');
    for (; i < input.length; i++) {
      const c = input[i]!;
      if (c === ',' || c === '+') break;
      if (c === '\\') {
        const next = input.slice(i + 1, i + 3);
        if (HEX.test(next)) {
          bytes.push(parseInt(next, 16));
          i += 2;
        } else if (SPECIAL.has(input[i + 1] ?? '')) {
          bytes.push(input.charCodeAt(++i));
        } else {
          fail('a bad escape');
        }
        trailingSpaces = 0;
        continue;
      }
      if (c === '"' || c === '=' || c === '\u0000') fail(`an unescaped ${JSON.stringify(c)}`);
      trailingSpaces = c === ' ' ? trailingSpaces + 1 : 0;
      // Whole code points, so characters outside the BMP stay intact.
      const ch = String.fromCodePoint(input.codePointAt(i)!);
      bytes.push(...Buffer.from(ch, 'utf8'));
      i += ch.length - 1;
    }
    // Unescaped trailing spaces are not part of the value (RFC 4514 §3).
    const valueBytes = Buffer.from(bytes.slice(0, bytes.length - trailingSpaces));
    let value: string;
    try {
      value = utf8.decode(valueBytes);
    } catch {
      return fail('a value that is not UTF-8');
    }
    if (value === '') fail('an empty value');
    const known = attributeType(rawType);
    rdn.push({ type: known ? known.name : rawType.toLowerCase(), value });
    if (i >= input.length) break;
    if (input[i] === ',') {
      rdns.push(rdn);
      rdn = [];
    }
    i++;
    if (i >= input.length) fail('a trailing separator');
  }
  rdns.push(rdn);
  return rdns;
}

function ruleOf(type: string): MatchingRule {
  return attributeType(type)?.equality ?? 'caseIgnore';
}

/** The canonical string of a parsed DN: lower-case types, prepared values, AVAs of an RDN sorted. */
export function formatNormalized(dn: Dn): string {
  return dn
    .map((rdn) =>
      rdn
        .map((ava) => `${ava.type.toLowerCase()}=${escapeDnValue(prepare(ava.value, ruleOf(ava.type)))}`)
        .sort()
        .join('+'),
    )
    .join(',');
}

export function normalizeDn(input: string): string {
  return formatNormalized(parseDn(input));
}

/** The normalized parent of a normalized DN ('' for a top-level entry). */
export function parentOf(normalized: string): string {
  return formatNormalized(parseDn(normalized).slice(1));
}
