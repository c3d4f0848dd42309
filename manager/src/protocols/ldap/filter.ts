/**
 * Search filters (RFC 4511 §4.5.1) decoded from BER into a plain tree, with limits on depth and
 * size so a filter cannot cost more than a bounded amount to evaluate. Assertion values are kept
 * exactly as sent (no string round trip), `null` when they are not UTF-8 (then they match nothing).
 *
 * @example
 * decodeFilter(tlv); // { type: 'and', filters: [{ type: 'equal', attribute: 'objectClass', value: 'inetOrgPerson' }, …] }
 */
import { BerError, BerReader, boolean, type Tlv, utf8 } from './ber.js';

export type Filter =
  | { readonly type: 'and' | 'or'; readonly filters: readonly Filter[] }
  | { readonly type: 'not'; readonly filter: Filter }
  | { readonly type: 'equal' | 'ge' | 'le' | 'approx'; readonly attribute: string; readonly value: string | null }
  | {
      readonly type: 'substrings';
      readonly attribute: string;
      readonly initial: string | null | undefined;
      readonly any: readonly (string | null)[];
      readonly final: string | null | undefined;
    }
  | { readonly type: 'present'; readonly attribute: string }
  | {
      readonly type: 'extensible';
      readonly rule: string | undefined;
      readonly attribute: string | undefined;
      readonly value: string | null;
      readonly dnAttributes: boolean;
    };

export interface FilterLimits {
  readonly maxDepth: number;
  readonly maxNodes: number;
}

export const DEFAULT_FILTER_LIMITS: FilterLimits = Object.freeze({ maxDepth: 32, maxNodes: 256 });

/** A well-formed filter past the limits: the search is answered adminLimitExceeded, the connection lives. */
export class FilterLimitError extends Error {
  override readonly name = 'FilterLimitError';
}

const valueDecoder = new TextDecoder('utf-8', { fatal: true });

function assertionValue(tlv: Tlv): string | null {
  try {
    return valueDecoder.decode(tlv.value);
  } catch {
    return null;
  }
}

export function decodeFilter(tlv: Tlv, limits: FilterLimits = DEFAULT_FILTER_LIMITS): Filter {
  let nodes = 0;

  const ava = (t: Tlv, what: string): { attribute: string; value: string | null } => {
    const r = new BerReader(t.value);
    const attribute = utf8(r.expect(0x04, `${what} attribute`), `${what} attribute`);
    const value = assertionValue(r.expect(0x04, `${what} value`));
    r.end(what);
    return { attribute, value };
  };

  const substrings = (t: Tlv): Filter => {
    const r = new BerReader(t.value);
    const attribute = utf8(r.expect(0x04, 'substrings attribute'), 'substrings attribute');
    const seq = new BerReader(r.expect(0x30, 'substrings').value);
    r.end('substrings');
    const parts: Tlv[] = [];
    while (!seq.done) {
      if (++nodes > limits.maxNodes) throw new FilterLimitError(`filter larger than ${limits.maxNodes} items`);
      parts.push(seq.next('substrings'));
    }
    if (parts.length === 0) throw new BerError('substrings: empty');
    let initial: string | null | undefined;
    let final: string | null | undefined;
    const any: (string | null)[] = [];
    parts.forEach((p, i) => {
      if (p.tag === 0x80 && i === 0) initial = assertionValue(p);
      else if (p.tag === 0x81) any.push(assertionValue(p));
      else if (p.tag === 0x82 && i === parts.length - 1) final = assertionValue(p);
      else throw new BerError(`substrings: element 0x${p.tag.toString(16)} out of place`);
    });
    return { type: 'substrings', attribute, initial, any, final };
  };

  const extensible = (t: Tlv): Filter => {
    const r = new BerReader(t.value);
    const rule = r.optional(0x81, 'matchingRule');
    const type = r.optional(0x82, 'type');
    const value = assertionValue(r.expect(0x83, 'matchValue'));
    const dn = r.optional(0x84, 'dnAttributes');
    r.end('extensibleMatch');
    if (!rule && !type) throw new BerError('extensibleMatch: neither a matching rule nor a type');
    return {
      type: 'extensible',
      rule: rule && utf8(rule, 'matchingRule'),
      attribute: type && utf8(type, 'type'),
      value,
      dnAttributes: dn ? boolean(dn, 'dnAttributes') : false,
    };
  };

  const walk = (t: Tlv, depth: number): Filter => {
    if (++nodes > limits.maxNodes || depth > limits.maxDepth)
      throw new FilterLimitError(`filter deeper than ${limits.maxDepth} or larger than ${limits.maxNodes} items`);
    switch (t.tag) {
      case 0xa0:
      case 0xa1: {
        // Read one by one: the node count, not the element count, is the limit (FilterLimitError).
        const r = new BerReader(t.value);
        const filters: Filter[] = [];
        while (!r.done) filters.push(walk(r.next('and/or'), depth + 1));
        return { type: t.tag === 0xa0 ? 'and' : 'or', filters };
      }
      case 0xa2: {
        const r = new BerReader(t.value);
        const filter = walk(r.next('not'), depth + 1);
        r.end('not');
        return { type: 'not', filter };
      }
      case 0xa3:
        return { type: 'equal', ...ava(t, 'equalityMatch') };
      case 0xa5:
        return { type: 'ge', ...ava(t, 'greaterOrEqual') };
      case 0xa6:
        return { type: 'le', ...ava(t, 'lessOrEqual') };
      case 0xa8:
        return { type: 'approx', ...ava(t, 'approxMatch') };
      case 0xa4:
        return substrings(t);
      case 0x87:
        return { type: 'present', attribute: utf8(t, 'present') };
      case 0xa9:
        return extensible(t);
      default:
        throw new BerError(`unknown filter choice 0x${t.tag.toString(16)}`);
    }
  };

  return walk(tlv, 0);
}
