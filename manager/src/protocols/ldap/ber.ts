/**
 * A bounded BER reader for the subset LDAP uses (RFC 4511 §5.1): single-byte tags, definite
 * lengths of at most four bytes, nothing read past the buffer it was given. Every problem is a
 * `BerError`; nothing else is thrown.
 *
 * @example
 * const r = new BerReader(frame);
 * const message = r.expect(0x30, 'LDAPMessage');
 * const body = new BerReader(message.value);
 * const id = integer(body.expect(0x02, 'messageID'));
 */
export class BerError extends Error {
  override readonly name = 'BerError';
}

export interface Tlv {
  readonly tag: number;
  readonly value: Buffer;
}

export interface Header {
  readonly tag: number;
  readonly headerLength: number;
  readonly length: number;
}

/** The header at `offset`, or undefined when more bytes are needed to read it. */
export function readHeader(buf: Buffer, offset = 0): Header | undefined {
  if (buf.length - offset < 2) return undefined;
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new BerError('multi-byte tags are not used by LDAP');
  const first = buf[offset + 1]!;
  if (first < 0x80) return { tag, headerLength: 2, length: first };
  const n = first & 0x7f;
  if (n === 0) throw new BerError('indefinite lengths are not allowed in LDAP');
  if (n > 4) throw new BerError('length of length over four bytes');
  if (buf.length - offset < 2 + n) return undefined;
  let length = 0;
  for (let i = 0; i < n; i++) length = length * 256 + buf[offset + 2 + i]!;
  return { tag, headerLength: 2 + n, length };
}

export class BerReader {
  private pos = 0;

  constructor(private readonly buf: Buffer) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  peek(): number | undefined {
    return this.done ? undefined : this.buf[this.pos];
  }

  next(what = 'element'): Tlv {
    const header = readHeader(this.buf, this.pos);
    if (!header) throw new BerError(`${what}: truncated`);
    const start = this.pos + header.headerLength;
    const end = start + header.length;
    if (end > this.buf.length) throw new BerError(`${what}: length ${header.length} overruns its container`);
    this.pos = end;
    return { tag: header.tag, value: this.buf.subarray(start, end) };
  }

  expect(tag: number, what: string): Tlv {
    const tlv = this.next(what);
    if (tlv.tag !== tag) throw new BerError(`${what}: expected tag 0x${tag.toString(16)}, got 0x${tlv.tag.toString(16)}`);
    return tlv;
  }

  /** The next element when it carries `tag`, else nothing read. */
  optional(tag: number, what: string): Tlv | undefined {
    return this.peek() === tag ? this.expect(tag, what) : undefined;
  }

  /** Every element left, for SEQUENCE OF / SET OF. */
  rest(what: string, max: number): Tlv[] {
    const out: Tlv[] = [];
    while (!this.done) {
      if (out.length >= max) throw new BerError(`${what}: more than ${max} elements`);
      out.push(this.next(what));
    }
    return out;
  }

  end(what: string): void {
    if (!this.done) throw new BerError(`${what}: unexpected trailing data`);
  }
}

/** INTEGER or ENUMERATED of at most four bytes, two's complement. */
export function integer(tlv: Tlv, what = 'integer'): number {
  const v = tlv.value;
  if (v.length < 1 || v.length > 4) throw new BerError(`${what}: ${v.length}-byte integer`);
  return v.readIntBE(0, v.length);
}

export function boolean(tlv: Tlv, what = 'boolean'): boolean {
  if (tlv.value.length !== 1) throw new BerError(`${what}: boolean of ${tlv.value.length} bytes`);
  return tlv.value[0] !== 0;
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/** LDAPString: UTF-8, strictly (RFC 4511 §4.1.2). */
export function utf8(tlv: Tlv, what = 'string'): string {
  try {
    return utf8Decoder.decode(tlv.value);
  } catch {
    throw new BerError(`${what}: not UTF-8`);
  }
}
