/**
 * Hand-built LDAP messages and a raw TCP client for tests: exact bytes (valid, truncated, odd)
 * without any LDAP library on the client side, and answers read back with our BER reader.
 *
 * @example
 * const c = await RawClient.connect(port);
 * c.send(msg(1, bindRequest('uid=alice,ou=people,dc=storm,dc=internal', 'pw')));
 * (await c.next()).code; // 0
 */
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { BerReader, integer, type Tlv, utf8 } from '../ber.js';
import { MessageFramer } from '../framer.js';

export function tlv(tag: number, ...parts: (Buffer | string)[]): Buffer {
  const value = Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p)));
  const n = value.length;
  const len =
    n < 0x80
      ? Buffer.from([n])
      : n < 0x100
        ? Buffer.from([0x81, n])
        : n < 0x10000
          ? Buffer.from([0x82, n >> 8, n & 0xff])
          : Buffer.from([0x83, n >> 16, (n >> 8) & 0xff, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, value]);
}

export function int(n: number, tag = 0x02): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  let start = 0;
  while (start < 3 && ((b[start] === 0 && (b[start + 1]! & 0x80) === 0) || (b[start] === 0xff && (b[start + 1]! & 0x80) !== 0))) start++;
  return tlv(tag, b.subarray(start));
}

export const str = (s: string | Buffer, tag = 0x04): Buffer => tlv(tag, s);
export const bool = (v: boolean): Buffer => tlv(0x01, Buffer.from([v ? 0xff : 0]));

/** An LDAPMessage around a protocol op, with optional raw controls ([0] SEQUENCE OF Control). */
export function msg(id: number, op: Buffer, controls?: Buffer[]): Buffer {
  return tlv(0x30, int(id), op, ...(controls ? [tlv(0xa0, ...controls)] : []));
}

export const control = (oid: string, critical: boolean, value?: Buffer): Buffer =>
  tlv(0x30, str(oid), ...(critical ? [bool(true)] : []), ...(value ? [str(value)] : []));
export const bindRequest = (dn: string, password: string | Buffer, version = 3): Buffer =>
  tlv(0x60, int(version), str(dn), tlv(0x80, password));
export const saslBind = (dn: string, mechanism: string): Buffer => tlv(0x60, int(3), str(dn), tlv(0xa3, str(mechanism)));
export const unbindRequest = (): Buffer => tlv(0x42);

export interface SearchOptions {
  readonly scope?: number;
  readonly sizeLimit?: number;
  readonly typesOnly?: boolean;
  readonly attributes?: readonly string[];
}

export function searchRequest(base: string, filter: Buffer, o: SearchOptions = {}): Buffer {
  return tlv(
    0x63,
    str(base),
    int(o.scope ?? 2, 0x0a),
    int(0, 0x0a),
    int(o.sizeLimit ?? 0),
    int(0),
    tlv(0x01, Buffer.from([o.typesOnly ? 0xff : 0])),
    filter,
    tlv(0x30, ...(o.attributes ?? []).map((a) => str(a))),
  );
}

export const compareRequest = (dn: string, attribute: string, value: string): Buffer =>
  tlv(0x6e, str(dn), tlv(0x30, str(attribute), str(value)));
export const extendedRequest = (oid: string, value?: Buffer): Buffer => tlv(0x77, tlv(0x80, oid), ...(value ? [tlv(0x81, value)] : []));

/** Filters, as RFC 4511 encodes them. */
export const f = {
  and: (...fs: Buffer[]) => tlv(0xa0, ...fs),
  or: (...fs: Buffer[]) => tlv(0xa1, ...fs),
  not: (x: Buffer) => tlv(0xa2, x),
  eq: (a: string, v: string | Buffer) => tlv(0xa3, str(a), str(v)),
  ge: (a: string, v: string) => tlv(0xa5, str(a), str(v)),
  le: (a: string, v: string) => tlv(0xa6, str(a), str(v)),
  approx: (a: string, v: string) => tlv(0xa8, str(a), str(v)),
  present: (a: string) => tlv(0x87, a),
  sub: (a: string, initial?: string, any: string[] = [], final?: string) =>
    tlv(
      0xa4,
      str(a),
      tlv(
        0x30,
        ...(initial === undefined ? [] : [tlv(0x80, initial)]),
        ...any.map((x) => tlv(0x81, x)),
        ...(final === undefined ? [] : [tlv(0x82, final)]),
      ),
    ),
  ext: (o: { rule?: string; type?: string; value: string; dn?: boolean }) =>
    tlv(
      0xa9,
      ...(o.rule ? [tlv(0x81, o.rule)] : []),
      ...(o.type ? [tlv(0x82, o.type)] : []),
      tlv(0x83, o.value),
      ...(o.dn ? [tlv(0x84, Buffer.from([0xff]))] : []),
    ),
};

/** One answer from the server, read with our own BER reader. */
export interface Answer {
  readonly id: number;
  readonly op: number;
  readonly code?: number;
  readonly matchedDn?: string;
  readonly message?: string;
  readonly dn?: string;
  readonly attributes?: Record<string, string[]>;
  readonly name?: string;
  readonly value?: string;
}

export function parseAnswer(frame: Buffer): Answer {
  const m = new BerReader(new BerReader(frame).expect(0x30, 'message').value);
  const id = integer(m.expect(0x02, 'id'));
  const op: Tlv = m.next('op');
  const r = new BerReader(op.value);
  if (op.tag === 0x64) {
    const dn = utf8(r.expect(0x04, 'dn'));
    const attributes: Record<string, string[]> = {};
    for (const a of new BerReader(r.expect(0x30, 'attrs').value).rest('attrs', 1000)) {
      const ar = new BerReader(a.value);
      const type = utf8(ar.expect(0x04, 'type'));
      attributes[type] = new BerReader(ar.expect(0x31, 'vals').value).rest('vals', 10000).map((v) => utf8(v));
    }
    return { id, op: op.tag, dn, attributes };
  }
  const code = integer(r.expect(0x0a, 'code'));
  const matchedDn = utf8(r.expect(0x04, 'matched'));
  const message = utf8(r.expect(0x04, 'message'));
  const name = r.optional(0x8a, 'name');
  const value = r.optional(0x8b, 'value');
  return { id, op: op.tag, code, matchedDn, message, ...(name ? { name: utf8(name) } : {}), ...(value ? { value: utf8(value) } : {}) };
}

/** RFC 4511 §4.14 (the server's own Oid table is what the tests check against). */
const START_TLS = '1.3.6.1.4.1.1466.20037';

export class RawClient {
  private readonly framer = new MessageFramer(16 * 1024 * 1024);
  private readonly answers: Answer[] = [];
  private waiters: (() => void)[] = [];
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const frame of this.framer.push(chunk)) this.answers.push(parseAnswer(frame));
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host }, () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  /**
   * Connects, sends StartTLS (message `id`) and, when the server accepts, continues over TLS
   * verified against `ca` for `host`; the answer is the caller's to check.
   */
  static async overStartTls(port: number, ca: string, host = '127.0.0.1', id = 1): Promise<{ answer: Answer; client: RawClient }> {
    const clear = await RawClient.connect(port, host);
    clear.send(msg(id, extendedRequest(START_TLS)));
    const answer = await clear.next();
    if (answer.code !== 0) return { answer, client: clear };
    // From here the socket carries TLS records: the clear client must not read them.
    clear.socket.removeAllListeners('data');
    const secure = tlsConnect({ socket: clear.socket, ca, host });
    await once(secure, 'secureConnect');
    return { answer, client: new RawClient(secure) };
  }

  send(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** The next answer; rejects when the connection closes first or nothing comes within `ms`. */
  async next(ms = 5000): Promise<Answer> {
    const deadline = Date.now() + ms;
    while (this.answers.length === 0) {
      if (this.closed) throw new Error('connection closed');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('no answer');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.answers.shift()!;
  }

  /** Answers up to and including the one with op `until` (e.g. 0x65 searchResultDone). */
  async collect(until: number): Promise<Answer[]> {
    const out: Answer[] = [];
    for (;;) {
      const a = await this.next();
      out.push(a);
      if (a.op === until) return out;
    }
  }

  /** Resolves when the server has closed the connection. */
  async closedByServer(ms = 5000): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!this.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return this.closed;
  }

  close(): void {
    this.socket.destroy();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const fn of w) fn();
  }
}
