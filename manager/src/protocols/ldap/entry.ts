/**
 * One entry of the published tree: its DN (as shown and normalized) and its attributes, each
 * with its values prepared once for its equality rule so searches compare cheaply.
 *
 * @example
 * const e = makeEntry('uid=alice,ou=people,dc=storm,dc=internal', { objectClass: ['top', 'posixAccount'], uid: 'alice', uidNumber: 10000 });
 * e.attributes.get('uidnumber')?.values; // ['10000']
 */
import { type Dn, DnError, normalizeDn, parseDn } from './dn.js';
import { attributeType, type AttributeType, type MatchingRule, prepare } from './schema.js';

export interface EntryValues {
  readonly type: AttributeType;
  readonly values: readonly string[];
  /** `values` prepared for the type's equality rule, in the same order. */
  readonly prepared: readonly string[];
}

export interface LdapEntry {
  readonly dn: string;
  readonly ndn: string;
  readonly parsed: Dn;
  /** Keyed by the lower-cased canonical name. */
  readonly attributes: ReadonlyMap<string, EntryValues>;
}

export type AttributeInput = Readonly<Record<string, readonly (string | number)[] | string | number | null | undefined>>;

/** A value in the form its rule compares, or null when it cannot be one (an assertion then is Undefined). */
export function normalizeValue(value: string, rule: MatchingRule): string | null {
  switch (rule) {
    case 'integer': {
      const t = value.trim();
      return /^-?\d{1,40}$/.test(t) ? BigInt(t).toString() : null;
    }
    case 'dn':
      try {
        return normalizeDn(value);
      } catch (err) {
        if (err instanceof DnError) return null;
        throw err;
      }
    default:
      return prepare(value, rule);
  }
}

export function makeEntry(dn: string, input: AttributeInput): LdapEntry {
  const attributes = new Map<string, EntryValues>();
  for (const [name, raw] of Object.entries(input)) {
    if (raw === null || raw === undefined) continue;
    const type = attributeType(name);
    // Entries are built by this module's callers from a fixed schema; an unknown name is a bug.
    if (!type) throw new Error(`attribute ${name} is not in the LDAP schema`);
    const values = (Array.isArray(raw) ? raw : [raw]).map(String);
    if (values.length === 0) continue;
    attributes.set(type.name.toLowerCase(), { type, values, prepared: values.map((v) => normalizeValue(v, type.equality) ?? v) });
  }
  const parsed = parseDn(dn);
  return { dn, ndn: normalizeDn(dn), parsed, attributes };
}
