/**
 * A search over the tree: the base (or the root DSE), the scope, the filter, the size limit and
 * the attribute selection (`*` user attributes, `+` operational ones, `1.1` none, or names in any
 * case, alias or OID). Also compare, which reads the same entries.
 *
 * @example
 * const out = runSearch(tree, rootDse, request, { sizeLimit: 1000 });
 * out.entries; // [{ dn, attributes: [{ type: 'uid', values: ['alice'] }, …] }]
 * out.code;    // ResultCode.success | sizeLimitExceeded | noSuchObject | invalidDNSyntax
 */
import { DnError, formatNormalized, parseDn } from './dn.js';
import { type LdapEntry, normalizeValue } from './entry.js';
import { compileFilter } from './match.js';
import { type CompareRequest, type EntryAttribute, ResultCode, type SearchRequest } from './protocol.js';
import { parseDescription } from './schema.js';
import type { DirectoryTree } from './tree.js';

export interface SearchOutcome {
  readonly entries: readonly { readonly dn: string; readonly attributes: readonly EntryAttribute[] }[];
  readonly code: ResultCode;
  readonly message?: string;
  readonly matchedDn?: string;
}

interface Located {
  readonly entry?: LdapEntry;
  readonly code: ResultCode;
  readonly message?: string;
  readonly matchedDn?: string;
}

/** The entry a DN names, or the result code and matched DN (closest existing ancestor) why not. */
export function locate(tree: DirectoryTree, dn: string): Located {
  let parsed;
  try {
    parsed = parseDn(dn);
  } catch (err) {
    if (err instanceof DnError) return { code: ResultCode.invalidDNSyntax, message: err.message };
    throw err;
  }
  for (let i = 0; i < parsed.length; i++) {
    const entry = tree.get(formatNormalized(parsed.slice(i)));
    if (entry) return i === 0 ? { entry, code: ResultCode.success } : { code: ResultCode.noSuchObject, matchedDn: entry.dn };
  }
  return { code: ResultCode.noSuchObject, matchedDn: '' };
}

/** The attributes to return, per RFC 4511 §4.5.1.8 and RFC 3673 (`+`). */
export function selectAttributes(entry: LdapEntry, requested: readonly string[], typesOnly: boolean): EntryAttribute[] {
  const all = requested.length === 0 || requested.includes('*');
  const operational = requested.includes('+');
  const named = new Set<string>();
  for (const r of requested) {
    const { type, options } = parseDescription(r);
    if (type && !options) named.add(type.name.toLowerCase());
  }
  const out: EntryAttribute[] = [];
  for (const [key, a] of entry.attributes) {
    const wanted = named.has(key) || (a.type.operational ? operational : all);
    if (wanted) out.push({ type: a.type.name, values: typesOnly ? [] : a.values });
  }
  return out;
}

function inScope(tree: DirectoryTree, base: LdapEntry, scope: SearchRequest['scope']): LdapEntry[] {
  if (scope === 'base') return [base];
  if (scope === 'one') return [...tree.children(base.ndn)];
  const out: LdapEntry[] = scope === 'sub' ? [base] : [];
  const stack = [...tree.children(base.ndn)].reverse();
  while (stack.length) {
    const e = stack.pop()!;
    out.push(e);
    stack.push(...[...tree.children(e.ndn)].reverse());
  }
  return out;
}

export function runSearch(
  tree: DirectoryTree,
  rootDse: LdapEntry,
  req: SearchRequest,
  limits: { readonly sizeLimit: number },
): SearchOutcome {
  if (req.filter === null) return { entries: [], code: ResultCode.adminLimitExceeded, message: 'filter too complex' };
  let candidates: LdapEntry[];
  if (req.base.trim() === '') {
    // The root DSE is only ever read with a base-scope search (RFC 4512 §5.1).
    if (req.scope !== 'base') return { entries: [], code: ResultCode.noSuchObject, matchedDn: '' };
    candidates = [rootDse];
  } else {
    const found = locate(tree, req.base);
    if (!found.entry) return { entries: [], code: found.code, message: found.message, matchedDn: found.matchedDn };
    candidates = inScope(tree, found.entry, req.scope);
  }
  const limit = Math.min(req.sizeLimit || Infinity, limits.sizeLimit);
  const test = compileFilter(req.filter);
  const entries: SearchOutcome['entries'][number][] = [];
  for (const entry of candidates) {
    if (test(entry) !== true) continue;
    if (entries.length >= limit) return { entries, code: ResultCode.sizeLimitExceeded };
    entries.push({ dn: entry.dn, attributes: selectAttributes(entry, req.attributes, req.typesOnly) });
  }
  return { entries, code: ResultCode.success };
}

/** RFC 4511 §4.10: compareTrue/False, noSuchObject, noSuchAttribute (also for userPassword, which no entry carries). */
export function runCompare(tree: DirectoryTree, req: CompareRequest): { code: ResultCode; matchedDn?: string; message?: string } {
  const found = locate(tree, req.entry);
  if (!found.entry) return { code: found.code, matchedDn: found.matchedDn, message: found.message };
  const { type, options } = parseDescription(req.attribute);
  if (!type) return { code: ResultCode.undefinedAttributeType };
  const values = options ? undefined : found.entry.attributes.get(type.name.toLowerCase());
  if (!values) return { code: ResultCode.noSuchAttribute };
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(req.value);
  } catch {
    return { code: ResultCode.compareFalse };
  }
  const assertion = normalizeValue(text, type.equality);
  return { code: assertion !== null && values.prepared.includes(assertion) ? ResultCode.compareTrue : ResultCode.compareFalse };
}
