/**
 * Filter evaluation over entries with RFC 4511's three values: TRUE, FALSE and Undefined (an
 * unknown attribute type, an assertion its matching rule cannot read). NOT of Undefined stays
 * Undefined and only TRUE returns an entry, so `(!(nosuchattr=x))` matches nothing.
 *
 * The filter is compiled once per search: assertion values are prepared once, not per entry.
 *
 * @example
 * const test = compileFilter(filter);
 * const hits = entries.filter((e) => test(e) === true);
 */
import type { LdapEntry } from './entry.js';
import { normalizeValue } from './entry.js';
import type { Filter } from './filter.js';
import { type AttributeType, type MatchingRule, parseDescription } from './schema.js';

export type Tri = boolean | undefined;
export type Matcher = (entry: LdapEntry) => Tri;

const UNDEFINED: Matcher = () => undefined;
const FALSE: Matcher = () => false;

const RULES: Readonly<Record<string, MatchingRule>> = {
  caseignorematch: 'caseIgnore',
  '2.5.13.2': 'caseIgnore',
  caseexactmatch: 'caseExact',
  '2.5.13.5': 'caseExact',
  caseignoreia5match: 'caseIgnore',
  '1.3.6.1.4.1.1466.109.114.2': 'caseIgnore',
  caseexactia5match: 'caseExact',
  '1.3.6.1.4.1.1466.109.114.1': 'caseExact',
  integermatch: 'integer',
  '2.5.13.14': 'integer',
  distinguishednamematch: 'dn',
  '2.5.13.1': 'dn',
};

/** A known type without options, or the matcher to use instead. */
function resolve(description: string): AttributeType | Matcher {
  const { type, options } = parseDescription(description);
  if (!type) return UNDEFINED;
  // We keep no tagged values (`cn;lang-en`), so an assertion on one is simply false.
  return options ? FALSE : type;
}

function substringPrep(fragment: string, rule: MatchingRule): string {
  const s = fragment.normalize('NFKC').replace(/\s+/g, ' ');
  return rule === 'caseIgnore' ? s.toLowerCase() : s;
}

function equality(description: string, value: string | null): Matcher {
  const type = resolve(description);
  if (typeof type === 'function') return type;
  const assertion = value === null ? null : normalizeValue(value, type.equality);
  if (assertion === null) return UNDEFINED;
  const key = type.name.toLowerCase();
  return (e) => e.attributes.get(key)?.prepared.includes(assertion) ?? false;
}

function ordering(description: string, value: string | null, ge: boolean): Matcher {
  const type = resolve(description);
  if (typeof type === 'function') return type;
  if (!type.ordered || value === null) return UNDEFINED;
  const assertion = normalizeValue(value, type.equality);
  if (assertion === null) return UNDEFINED;
  const key = type.name.toLowerCase();
  const cmp =
    type.equality === 'integer'
      ? (v: string) => {
          const d = BigInt(v) - BigInt(assertion);
          return d > 0n ? 1 : d < 0n ? -1 : 0;
        }
      : (v: string) => (v > assertion ? 1 : v < assertion ? -1 : 0);
  return (e) => e.attributes.get(key)?.prepared.some((v) => (ge ? cmp(v) >= 0 : cmp(v) <= 0)) ?? false;
}

function substrings(f: Extract<Filter, { type: 'substrings' }>): Matcher {
  const type = resolve(f.attribute);
  if (typeof type === 'function') return type;
  if (!type.substrings || f.initial === null || f.final === null || f.any.includes(null)) return UNDEFINED;
  const rule = type.equality;
  const initial = f.initial === undefined ? undefined : substringPrep(f.initial, rule);
  const any = (f.any as string[]).map((a) => substringPrep(a, rule));
  const final = f.final === undefined ? undefined : substringPrep(f.final, rule);
  const key = type.name.toLowerCase();
  const test = (s: string): boolean => {
    let pos = 0;
    if (initial !== undefined) {
      if (!s.startsWith(initial)) return false;
      pos = initial.length;
    }
    for (const a of any) {
      const at = s.indexOf(a, pos);
      if (at < 0) return false;
      pos = at + a.length;
    }
    return final === undefined || (s.length - final.length >= pos && s.endsWith(final));
  };
  return (e) => e.attributes.get(key)?.prepared.some(test) ?? false;
}

function extensible(f: Extract<Filter, { type: 'extensible' }>): Matcher {
  const named = f.rule === undefined ? undefined : RULES[f.rule.toLowerCase()];
  if ((f.rule !== undefined && !named) || f.value === null) return UNDEFINED;
  const type = f.attribute === undefined ? undefined : resolve(f.attribute);
  if (typeof type === 'function') return type;
  const rule = named ?? type!.equality;
  const assertion = normalizeValue(f.value, rule);
  if (assertion === null) return UNDEFINED;
  const key = type?.name.toLowerCase();
  const hit = (v: string) => normalizeValue(v, rule) === assertion;
  return (e) => {
    const values = key
      ? (e.attributes.get(key)?.values ?? [])
      : [...e.attributes.values()].filter((a) => !a.type.operational).flatMap((a) => a.values);
    if (values.some(hit)) return true;
    // dnAttributes: the entry's own RDN values count too (RFC 4511 §4.5.1.7.7).
    return f.dnAttributes && e.parsed.some((rdn) => rdn.some((ava) => (!key || ava.type.toLowerCase() === key) && hit(ava.value)));
  };
}

export function compileFilter(filter: Filter): Matcher {
  switch (filter.type) {
    case 'and': {
      const parts = filter.filters.map(compileFilter);
      return (e) => {
        let result: Tri = true;
        for (const p of parts) {
          const r = p(e);
          if (r === false) return false;
          if (r === undefined) result = undefined;
        }
        return result;
      };
    }
    case 'or': {
      const parts = filter.filters.map(compileFilter);
      return (e) => {
        let result: Tri = false;
        for (const p of parts) {
          const r = p(e);
          if (r === true) return true;
          if (r === undefined) result = undefined;
        }
        return result;
      };
    }
    case 'not': {
      const inner = compileFilter(filter.filter);
      return (e) => {
        const r = inner(e);
        return r === undefined ? undefined : !r;
      };
    }
    case 'equal':
    case 'approx':
      return equality(filter.attribute, filter.value);
    case 'ge':
    case 'le':
      return ordering(filter.attribute, filter.value, filter.type === 'ge');
    case 'substrings':
      return substrings(filter);
    case 'present': {
      const type = resolve(filter.attribute);
      if (typeof type === 'function') return FALSE;
      const key = type.name.toLowerCase();
      return (e) => e.attributes.has(key);
    }
    case 'extensible':
      return extensible(filter);
  }
}
