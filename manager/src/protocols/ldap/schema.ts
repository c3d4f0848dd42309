/**
 * The attribute types this directory publishes, with their names, aliases, OIDs and matching
 * rules (RFC 4519, RFC 2798, RFC 2307, RFC 4512/3045 for the operational ones). Attribute names
 * are case-insensitive; values compare as each type's equality rule says.
 *
 * @example
 * attributeType('UserID')?.name;   // 'uid'
 * attributeType('2.5.4.3')?.name;  // 'cn'
 * attributeType('mail;lang-en');   // the mail type; options are stripped by `parseDescription`
 */

/** caseIgnore*: case-folded; caseExact*: as is; integer: numeric; dn: normalized DN; generalizedTime/boolean compare as text. */
export type MatchingRule = 'caseIgnore' | 'caseExact' | 'integer' | 'dn';

export interface AttributeType {
  /** The name entries carry, e.g. `givenName`. */
  readonly name: string;
  readonly oid: string;
  readonly aliases: readonly string[];
  readonly equality: MatchingRule;
  /** Ordering (>=, <=) is defined for it. */
  readonly ordered: boolean;
  /** Substring assertions are defined for it. */
  readonly substrings: boolean;
  /** Returned only when asked for by name or with `+`. */
  readonly operational: boolean;
}

type Spec = [name: string, oid: string, equality: MatchingRule, flags: string, aliases?: string[]];

// flags: o = ordered, s = substrings, + = operational.
const SPECS: readonly Spec[] = [
  ['objectClass', '2.5.4.0', 'caseIgnore', ''],
  ['cn', '2.5.4.3', 'caseIgnore', 'os', ['commonName']],
  ['sn', '2.5.4.4', 'caseIgnore', 'os', ['surname']],
  ['givenName', '2.5.4.42', 'caseIgnore', 'os', ['gn']],
  ['uid', '0.9.2342.19200300.100.1.1', 'caseIgnore', 'os', ['userid']],
  ['mail', '0.9.2342.19200300.100.1.3', 'caseIgnore', 's', ['rfc822Mailbox']],
  ['uidNumber', '1.3.6.1.1.1.1.0', 'integer', 'o'],
  ['gidNumber', '1.3.6.1.1.1.1.1', 'integer', 'o'],
  ['homeDirectory', '1.3.6.1.1.1.1.3', 'caseExact', 's'],
  ['loginShell', '1.3.6.1.1.1.1.4', 'caseExact', 's'],
  ['memberUid', '1.3.6.1.1.1.1.12', 'caseExact', 's'],
  ['member', '2.5.4.31', 'dn', ''],
  ['memberOf', '1.2.840.113556.1.2.102', 'dn', ''],
  ['description', '2.5.4.13', 'caseIgnore', 's'],
  ['ou', '2.5.4.11', 'caseIgnore', 's', ['organizationalUnitName']],
  ['o', '2.5.4.10', 'caseIgnore', 's', ['organizationName']],
  ['dc', '0.9.2342.19200300.100.1.25', 'caseIgnore', 's', ['domainComponent']],
  // Known so that filters on it are FALSE rather than Undefined; no entry ever carries it.
  ['userPassword', '2.5.4.35', 'caseExact', ''],
  ['entryDN', '1.3.6.1.1.20', 'dn', '+'],
  ['hasSubordinates', '2.5.18.9', 'caseIgnore', '+'],
  ['structuralObjectClass', '2.5.21.9', 'caseIgnore', '+'],
  ['createTimestamp', '2.5.18.1', 'caseIgnore', 'o+'],
  ['modifyTimestamp', '2.5.18.2', 'caseIgnore', 'o+'],
  ['namingContexts', '1.3.6.1.4.1.1466.101.120.5', 'dn', '+'],
  ['supportedLDAPVersion', '1.3.6.1.4.1.1466.101.120.15', 'integer', '+'],
  ['supportedExtension', '1.3.6.1.4.1.1466.101.120.7', 'caseIgnore', '+'],
  ['supportedControl', '1.3.6.1.4.1.1466.101.120.13', 'caseIgnore', '+'],
  ['supportedSASLMechanisms', '1.3.6.1.4.1.1466.101.120.14', 'caseIgnore', '+'],
  ['vendorName', '1.3.6.1.1.4', 'caseExact', '+'],
  ['vendorVersion', '1.3.6.1.1.5', 'caseExact', '+'],
];

const TYPES: readonly AttributeType[] = SPECS.map(([name, oid, equality, flags, aliases = []]) =>
  Object.freeze({
    name,
    oid,
    aliases,
    equality,
    ordered: flags.includes('o'),
    substrings: flags.includes('s'),
    operational: flags.includes('+'),
  }),
);

const BY_KEY = new Map<string, AttributeType>();
for (const t of TYPES) {
  for (const key of [t.name, t.oid, ...t.aliases]) BY_KEY.set(key.toLowerCase(), t);
}

/** The type a name, alias or OID stands for (case-insensitive, options already stripped). */
export function attributeType(name: string): AttributeType | undefined {
  return BY_KEY.get(name.toLowerCase());
}

const DESCRIPTION = /^([A-Za-z][A-Za-z0-9-]*|\d+(?:\.\d+)*)((?:;[A-Za-z0-9-]+)*)$/;

/** `type;option;…` → its type (undefined when unknown or malformed) and whether options were given. */
export function parseDescription(description: string): { type: AttributeType | undefined; options: boolean } {
  const m = DESCRIPTION.exec(description);
  if (!m) return { type: undefined, options: false };
  return { type: attributeType(m[1]!), options: m[2] !== '' };
}

/** RFC 4518 string preparation, close enough for our values: NFKC, trimmed, inner runs of space folded. */
export function prepare(value: string, rule: MatchingRule): string {
  const s = value.normalize('NFKC').trim().replace(/\s+/g, ' ');
  return rule === 'caseIgnore' ? s.toLowerCase() : s;
}
