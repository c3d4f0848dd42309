/**
 * LDAPMessage → typed request, for one whole frame from the framer. Anything malformed is a
 * `DecodeError` (the connection gets a Notice of Disconnection); a well-formed filter that is
 * merely too complex comes back as `filter: null`.
 *
 * Requests are decoded here rather than by ldapjs: its parser keeps growing its buffer on
 * garbage, and its search decoding rewrites filters through a string form that mangles values
 * (`*` arrives as the three characters `\2a`, an empty value throws, `;options` are refused).
 *
 * @example
 * const req = decodeRequest(frame); // { op: 'bind', id: 1, version: 3, name: 'uid=alice,…', auth: { kind: 'simple', password } }
 */
import { BerError, BerReader, boolean, integer, type Tlv, utf8 } from './ber.js';
import { DEFAULT_FILTER_LIMITS, decodeFilter, type Filter, FilterLimitError, type FilterLimits } from './filter.js';
import { type BindAuth, type Control, type LdapRequest, Op, type Scope } from './protocol.js';

export class DecodeError extends Error {
  override readonly name = 'DecodeError';
}

export interface DecodeLimits {
  readonly filter: FilterLimits;
  readonly maxControls: number;
  readonly maxAttributes: number;
}

export const DEFAULT_DECODE_LIMITS: DecodeLimits = Object.freeze({ filter: DEFAULT_FILTER_LIMITS, maxControls: 16, maxAttributes: 128 });

const OID = /^\d+(\.\d+)+$/;
const SCOPES: readonly Scope[] = ['base', 'one', 'sub', 'children'];
const WRITES: Readonly<Record<number, number>> = {
  [Op.addRequest]: Op.addResponse,
  [Op.modifyRequest]: Op.modifyResponse,
  [Op.delRequest]: Op.delResponse,
  [Op.modDnRequest]: Op.modDnResponse,
};

export function decodeRequest(frame: Buffer, limits: DecodeLimits = DEFAULT_DECODE_LIMITS): LdapRequest {
  try {
    return decode(frame, limits);
  } catch (err) {
    if (err instanceof BerError) throw new DecodeError(err.message);
    throw err;
  }
}

function decode(frame: Buffer, limits: DecodeLimits): LdapRequest {
  const outer = new BerReader(frame);
  const message = outer.expect(0x30, 'LDAPMessage');
  outer.end('LDAPMessage');
  const r = new BerReader(message.value);
  const id = integer(r.expect(0x02, 'messageID'), 'messageID');
  // 0 is reserved for the server's unsolicited notices (RFC 4511 §4.1.1.1).
  if (id < 1) throw new BerError(`messageID ${id}`);
  const op = r.next('protocolOp');
  const controlsTlv = r.optional(0xa0, 'controls');
  r.end('LDAPMessage');
  const controls = controlsTlv ? decodeControls(controlsTlv, limits.maxControls) : [];

  switch (op.tag) {
    case Op.bindRequest:
      return { op: 'bind', id, controls, ...decodeBind(op) };
    case Op.unbindRequest:
      return { op: 'unbind', id, controls };
    case Op.searchRequest:
      return { op: 'search', id, controls, ...decodeSearch(op, limits) };
    case Op.compareRequest: {
      const b = new BerReader(op.value);
      const entry = utf8(b.expect(0x04, 'compare entry'), 'compare entry');
      const ava = new BerReader(b.expect(0x30, 'compare assertion').value);
      b.end('compareRequest');
      const attribute = utf8(ava.expect(0x04, 'compare attribute'), 'compare attribute');
      const value = ava.expect(0x04, 'compare value').value;
      ava.end('compare assertion');
      return { op: 'compare', id, controls, entry, attribute, value };
    }
    case Op.extendedRequest: {
      const b = new BerReader(op.value);
      const name = utf8(b.expect(0x80, 'requestName'), 'requestName');
      const value = b.optional(0x81, 'requestValue')?.value;
      b.end('extendedRequest');
      return { op: 'extended', id, controls, name, value };
    }
    case Op.abandonRequest:
      return { op: 'abandon', id, controls, target: integer(op, 'abandon') };
    default: {
      const responseOp = WRITES[op.tag];
      if (responseOp !== undefined) return { op: 'write', id, controls, responseOp };
      throw new BerError(`protocolOp 0x${op.tag.toString(16)} is not a request this server knows`);
    }
  }
}

function decodeControls(tlv: Tlv, max: number): Control[] {
  return new BerReader(tlv.value).rest('controls', max).map((c) => {
    if (c.tag !== 0x30) throw new BerError('control: not a SEQUENCE');
    const r = new BerReader(c.value);
    const type = utf8(r.expect(0x04, 'controlType'), 'controlType');
    if (!OID.test(type)) throw new BerError('controlType: not an OID');
    const critical = r.optional(0x01, 'criticality');
    const value = r.optional(0x04, 'controlValue');
    r.end('control');
    return { type, critical: critical ? boolean(critical, 'criticality') : false, value: value?.value };
  });
}

function decodeBind(op: Tlv): { version: number; name: string; auth: BindAuth } {
  const r = new BerReader(op.value);
  const version = integer(r.expect(0x02, 'bind version'), 'bind version');
  const name = utf8(r.expect(0x04, 'bind name'), 'bind name');
  const auth = r.next('authentication');
  r.end('bindRequest');
  if (auth.tag === 0x80) return { version, name, auth: { kind: 'simple', password: auth.value } };
  if (auth.tag === 0xa3) {
    const sasl = new BerReader(auth.value);
    return { version, name, auth: { kind: 'sasl', mechanism: utf8(sasl.expect(0x04, 'sasl mechanism'), 'sasl mechanism') } };
  }
  return { version, name, auth: { kind: 'other', tag: auth.tag } };
}

function decodeSearch(op: Tlv, limits: DecodeLimits) {
  const r = new BerReader(op.value);
  const base = utf8(r.expect(0x04, 'baseObject'), 'baseObject');
  const scope = SCOPES[integer(r.expect(0x0a, 'scope'), 'scope')];
  if (!scope) throw new BerError('scope: unknown');
  const deref = integer(r.expect(0x0a, 'derefAliases'), 'derefAliases');
  if (deref < 0 || deref > 3) throw new BerError('derefAliases: unknown');
  const sizeLimit = integer(r.expect(0x02, 'sizeLimit'), 'sizeLimit');
  const timeLimit = integer(r.expect(0x02, 'timeLimit'), 'timeLimit');
  if (sizeLimit < 0 || timeLimit < 0) throw new BerError('negative limit');
  const typesOnly = boolean(r.expect(0x01, 'typesOnly'), 'typesOnly');
  const filterTlv = r.next('filter');
  const attributes = new BerReader(r.expect(0x30, 'attributes').value).rest('attributes', limits.maxAttributes).map((a) => {
    if (a.tag !== 0x04) throw new BerError('attribute selector: not an OCTET STRING');
    return utf8(a, 'attribute selector');
  });
  r.end('searchRequest');
  let filter: Filter | null;
  try {
    filter = decodeFilter(filterTlv, limits.filter);
  } catch (err) {
    if (!(err instanceof FilterLimitError)) throw err;
    filter = null;
  }
  return { base, scope, sizeLimit, timeLimit, typesOnly, filter, attributes };
}
