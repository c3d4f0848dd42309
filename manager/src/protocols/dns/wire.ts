/**
 * A strict, bounded reader of DNS queries (RFC 1035 §4.1, EDNS RFC 6891): the header, the one
 * question and the OPT record, read straight from the bytes so the hot path allocates little.
 * Every read is bounds-checked; a packet too short for a header or carrying a response is
 * dropped, anything else that breaks the rules is FORMERR.
 *
 * @example
 * const out = parseQuery(datagram);
 * if (out.kind === 'query') console.log(out.query.question.name, out.query.question.type);
 */

export interface WireQuestion {
  /** Lower case, without the trailing dot; `.` for the root. */
  readonly name: string;
  readonly type: number;
  readonly klass: number;
}

export interface Edns {
  readonly udpSize: number;
  readonly version: number;
  readonly dnssecOk: boolean;
}

export interface ParsedQuery {
  readonly id: number;
  readonly opcode: number;
  readonly rd: boolean;
  readonly question: WireQuestion;
  /** Offset just past the question: bytes 12..questionEnd are echoed verbatim in the answer. */
  readonly questionEnd: number;
  readonly edns: Edns | undefined;
  /** False when a label holds a dot or a byte outside printable ASCII: we answer such names REFUSED. */
  readonly plainName: boolean;
}

export type ParseResult =
  | { readonly kind: 'drop'; readonly reason: string }
  | { readonly kind: 'formerr'; readonly id: number; readonly opcode: number; readonly rd: boolean; readonly reason: string }
  | { readonly kind: 'notimp'; readonly id: number; readonly opcode: number; readonly rd: boolean }
  | { readonly kind: 'query'; readonly query: ParsedQuery };

export const QR = 0x8000;
export const TYPE_OPT = 41;

interface Name {
  readonly name: string;
  readonly end: number;
  readonly plain: boolean;
}

/** Scratch space for one name (at most 255 bytes on the wire), reused so parsing allocates one string. */
const scratch = Buffer.alloc(256);

/** Reads an uncompressed name at `offset`, lower-cased in one pass; undefined when it breaks a bound. */
function readName(buf: Buffer, offset: number): Name | undefined {
  let i = offset;
  let out = 0;
  let plain = true;
  for (;;) {
    if (i >= buf.length) return undefined;
    const len = buf[i]!;
    if (len === 0) return { name: out === 0 ? '.' : scratch.toString('latin1', 0, out), end: i + 1, plain };
    if (len > 63 || i + 1 + len > buf.length) return undefined; // pointers (0xc0) and reserved label types land here too
    if (out + len + 1 > 254) return undefined;
    if (out > 0) scratch[out++] = 0x2e;
    for (let j = i + 1; j <= i + len; j++) {
      let c = buf[j]!;
      if (c <= 0x20 || c >= 0x7f || c === 0x2e) plain = false;
      else if (c >= 0x41 && c <= 0x5a) c += 0x20;
      scratch[out++] = c;
    }
    i += 1 + len;
  }
}

/** Skips a possibly compressed name; returns the offset after it, or undefined. */
function skipName(buf: Buffer, offset: number): number | undefined {
  let i = offset;
  for (let guard = 0; guard < 128; guard++) {
    if (i >= buf.length) return undefined;
    const len = buf[i]!;
    if (len === 0) return i + 1;
    if ((len & 0xc0) === 0xc0) return i + 2 <= buf.length ? i + 2 : undefined;
    if (len > 63) return undefined;
    i += 1 + len;
  }
  return undefined;
}

export function parseQuery(buf: Buffer): ParseResult {
  if (buf.length < 12) return { kind: 'drop', reason: 'shorter than a header' };
  const id = buf.readUInt16BE(0);
  const flags = buf.readUInt16BE(2);
  if (flags & QR) return { kind: 'drop', reason: 'a response, not a query' };
  const opcode = (flags >> 11) & 0xf;
  const rd = (flags & 0x0100) !== 0;
  if (opcode !== 0) return { kind: 'notimp', id, opcode, rd };
  const qd = buf.readUInt16BE(4);
  const an = buf.readUInt16BE(6);
  const ns = buf.readUInt16BE(8);
  const ar = buf.readUInt16BE(10);
  if (qd !== 1) return { kind: 'formerr', id, opcode, rd, reason: `${qd} questions` };
  if (an !== 0 || ns !== 0) return { kind: 'formerr', id, opcode, rd, reason: 'records in the answer or authority section of a query' };
  const name = readName(buf, 12);
  if (!name || name.end + 4 > buf.length) return { kind: 'formerr', id, opcode, rd, reason: 'bad question' };
  const question = { name: name.name, type: buf.readUInt16BE(name.end), klass: buf.readUInt16BE(name.end + 2) };
  const questionEnd = name.end + 4;
  let edns: Edns | undefined;
  let i = questionEnd;
  for (let r = 0; r < ar; r++) {
    const afterName = skipName(buf, i);
    if (afterName === undefined || afterName + 10 > buf.length) return { kind: 'formerr', id, opcode, rd, reason: 'bad additional record' };
    const type = buf.readUInt16BE(afterName);
    const rdlen = buf.readUInt16BE(afterName + 8);
    if (afterName + 10 + rdlen > buf.length) return { kind: 'formerr', id, opcode, rd, reason: 'additional record overruns the packet' };
    if (type === TYPE_OPT) {
      if (edns || afterName !== i + 1 || buf[i] !== 0)
        return { kind: 'formerr', id, opcode, rd, reason: 'more than one OPT, or OPT not at the root' };
      edns = {
        udpSize: buf.readUInt16BE(afterName + 2),
        version: buf[afterName + 5]!,
        dnssecOk: (buf.readUInt16BE(afterName + 6) & 0x8000) !== 0,
      };
    }
    i = afterName + 10 + rdlen;
  }
  return { kind: 'query', query: { id, opcode, rd, question, questionEnd, edns, plainName: name.plain } };
}

/** The first question of any DNS message (used to match upstream replies); undefined when unreadable. */
export function readQuestion(buf: Buffer): WireQuestion | undefined {
  if (buf.length < 12 || buf.readUInt16BE(4) !== 1) return undefined;
  const name = readName(buf, 12);
  if (!name || name.end + 4 > buf.length) return undefined;
  return { name: name.name, type: buf.readUInt16BE(name.end), klass: buf.readUInt16BE(name.end + 2) };
}
