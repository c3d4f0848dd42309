/** Pure HTTP rules of the static server (RFC 9110): byte ranges, entity tags, conditionals. */

export type RangeResult =
  | { readonly kind: 'full' }
  | { readonly kind: 'partial'; readonly start: number; readonly end: number }
  | { readonly kind: 'unsatisfiable' };

/**
 * One `bytes=` range against a file of `size` bytes. Malformed headers, other units and
 * multi-range requests are ignored (full response), as RFC 9110 §14.2 allows.
 */
export function parseRange(header: string | undefined, size: number): RangeResult {
  if (header === undefined) return { kind: 'full' };
  const m = /^bytes=[ \t]*(\d*)-(\d*)[ \t]*$/i.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return { kind: 'full' };
  const first = m[1] === '' ? undefined : Number(m[1]);
  const last = m[2] === '' ? undefined : Number(m[2]);
  if ((first !== undefined && !Number.isSafeInteger(first)) || (last !== undefined && !Number.isSafeInteger(last))) return { kind: 'full' };
  if (first === undefined) {
    // suffix range: the last N bytes
    if (last === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', start: Math.max(0, size - (last as number)), end: size - 1 };
  }
  if (last !== undefined && last < first) return { kind: 'full' };
  if (first >= size) return { kind: 'unsatisfiable' };
  return { kind: 'partial', start: first, end: Math.min(last ?? size - 1, size - 1) };
}

/** A strong validator from what changes whenever the file's bytes do (files are replaced by rename). */
export function strongEtag(size: bigint, mtimeNs: bigint, ino: bigint): string {
  return `"${size.toString(16)}-${mtimeNs.toString(16)}-${ino.toString(16)}"`;
}

/** Entity tags of an If-Match / If-None-Match list; `*` stays as is. */
export function etagList(header: string): string[] {
  return header.match(/\*|(?:W\/)?"[^"]*"/g) ?? [];
}

const opaque = (tag: string): string => tag.replace(/^W\//, '');

/** If-None-Match uses the weak comparison. */
export function noneMatch(header: string, etag: string): boolean {
  return etagList(header).some((t) => t === '*' || opaque(t) === etag);
}

/** If-Match and If-Range use the strong comparison: weak tags never match. */
export function strongMatch(header: string, etag: string): boolean {
  return etagList(header).some((t) => t === '*' || t === etag);
}

/** HTTP-date to epoch seconds, or undefined. */
export function httpDateSeconds(value: string): number | undefined {
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
}

/**
 * Whether a Range request may be served partially under its If-Range: an entity tag must match
 * strongly; a date must equal Last-Modified exactly.
 */
export function ifRangeHolds(ifRange: string | undefined, etag: string, lastModified: string): boolean {
  if (ifRange === undefined) return true;
  const v = ifRange.trim();
  if (v.startsWith('"') || v.startsWith('W/')) return v === etag;
  return v === lastModified;
}
