/**
 * XML-RPC wire format (the spec at xmlrpc.com): `methodCall` in, `methodResponse` or fault out.
 * Guest requests are hostile input: a strict non-validating parser (saxes) with no DTD (so no
 * entities), caps on depth, element count and string size, and values kept in Maps and arrays until
 * they become plain objects with `Object.create(null)`, so no member name reaches a prototype.
 *
 * @example
 * const call = parseMethodCall(body); // { method: 'storm.getConfig', params: [] }
 * reply.send(encodeResponse({ ok: true }));
 */
import { SaxesParser } from 'saxes';

export type XmlRpcValue = string | number | boolean | Buffer | XmlRpcValue[] | { [key: string]: XmlRpcValue };

export interface MethodCall {
  readonly method: string;
  readonly params: XmlRpcValue[];
}

export class XmlRpcParseError extends Error {}

const LIMITS = { depth: 24, elements: 20_000, text: 256 * 1024 };
const SCALARS = new Set(['i4', 'int', 'i8', 'boolean', 'string', 'double', 'dateTime.iso8601', 'base64', 'nil']);

interface Frame {
  readonly tag: string;
  text: string;
  /** For value: the typed child's result; for struct/array: their items. */
  value?: XmlRpcValue;
  items?: XmlRpcValue[];
  members?: Map<string, XmlRpcValue>;
  name?: string;
}

function scalar(tag: string, text: string): XmlRpcValue {
  switch (tag) {
    case 'i4':
    case 'int':
    case 'i8': {
      if (!/^[+-]?\d{1,19}$/.test(text.trim())) throw new XmlRpcParseError(`<${tag}> is not an integer`);
      const n = Number(text.trim());
      if (!Number.isSafeInteger(n)) throw new XmlRpcParseError(`<${tag}> is out of range`);
      return n;
    }
    case 'boolean':
      if (text.trim() !== '0' && text.trim() !== '1') throw new XmlRpcParseError('<boolean> must be 0 or 1');
      return text.trim() === '1';
    case 'double': {
      const n = Number(text.trim());
      if (!Number.isFinite(n) || text.trim() === '') throw new XmlRpcParseError('<double> is not a number');
      return n;
    }
    case 'base64':
      return Buffer.from(text.replace(/\s+/g, ''), 'base64');
    case 'nil':
      return '';
    default:
      return text;
  }
}

/** Parses a `methodCall`; throws XmlRpcParseError with a short reason on anything off-spec. */
export function parseMethodCall(body: Buffer | string): MethodCall {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  if (/<!\s*(DOCTYPE|ENTITY)/i.test(text)) throw new XmlRpcParseError('DTDs and entities are not allowed');
  const parser = new SaxesParser({ xmlns: false });
  const stack: Frame[] = [];
  const params: XmlRpcValue[] = [];
  let method: string | undefined;
  let elements = 0;
  let failure: Error | undefined;
  parser.on('error', (err) => {
    failure ??= new XmlRpcParseError(err.message);
  });
  parser.on('doctype', () => {
    failure ??= new XmlRpcParseError('DTDs are not allowed');
  });
  parser.on('processinginstruction', () => {
    failure ??= new XmlRpcParseError('processing instructions are not allowed');
  });
  parser.on('opentag', (tag) => {
    if (++elements > LIMITS.elements) failure ??= new XmlRpcParseError('too many elements');
    if (stack.length >= LIMITS.depth) failure ??= new XmlRpcParseError('nested too deeply');
    const parent = stack.at(-1)?.tag;
    const allowed =
      (tag.name === 'methodCall' && parent === undefined) ||
      (tag.name === 'methodName' && parent === 'methodCall') ||
      (tag.name === 'params' && parent === 'methodCall') ||
      (tag.name === 'param' && parent === 'params') ||
      (tag.name === 'value' && (parent === 'param' || parent === 'member' || parent === 'data')) ||
      ((SCALARS.has(tag.name) || tag.name === 'struct' || tag.name === 'array') && parent === 'value') ||
      (tag.name === 'member' && parent === 'struct') ||
      (tag.name === 'name' && parent === 'member') ||
      (tag.name === 'data' && parent === 'array');
    if (!allowed) failure ??= new XmlRpcParseError(`unexpected <${tag.name}>${parent ? ` in <${parent}>` : ''}`);
    stack.push({
      tag: tag.name,
      text: '',
      ...(tag.name === 'array' || tag.name === 'data' ? { items: [] } : {}),
      ...(tag.name === 'struct' ? { members: new Map() } : {}),
    });
  });
  const addText = (t: string) => {
    const top = stack.at(-1);
    if (!top) return;
    top.text += t;
    if (top.text.length > LIMITS.text) failure ??= new XmlRpcParseError('a string is too long');
  };
  parser.on('text', addText);
  parser.on('cdata', addText);
  parser.on('closetag', () => {
    const frame = stack.pop()!;
    const parent = stack.at(-1);
    switch (frame.tag) {
      case 'methodName':
        method = frame.text.trim();
        break;
      case 'value': {
        // An untyped value is a string (the spec's default).
        const v = frame.value ?? frame.text;
        if (parent?.tag === 'param') params.push(v);
        else if (parent?.tag === 'member') parent.value = v;
        else if (parent?.tag === 'data') parent.items!.push(v);
        break;
      }
      case 'struct': {
        const obj: { [key: string]: XmlRpcValue } = Object.create(null) as { [key: string]: XmlRpcValue };
        for (const [k, v] of frame.members!) obj[k] = v;
        parent!.value = obj;
        break;
      }
      case 'data':
        parent!.items = frame.items;
        break;
      case 'array':
        parent!.value = frame.items ?? [];
        break;
      case 'member':
        if (frame.name === undefined || frame.value === undefined)
          failure ??= new XmlRpcParseError('a <member> needs a <name> and a <value>');
        else parent!.members!.set(frame.name, frame.value);
        break;
      case 'name':
        parent!.name = frame.text;
        break;
      default:
        if (SCALARS.has(frame.tag) && parent) {
          try {
            parent.value = scalar(frame.tag, frame.text);
          } catch (err) {
            failure ??= err as Error;
          }
        }
    }
  });
  try {
    parser.write(text).close();
  } catch (err) {
    failure ??= new XmlRpcParseError(err instanceof Error ? err.message : String(err));
  }
  if (failure) throw failure instanceof XmlRpcParseError ? failure : new XmlRpcParseError(failure.message);
  if (!method) throw new XmlRpcParseError('no <methodName>');
  return { method, params };
}

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function encodeValue(v: XmlRpcValue | null | undefined): string {
  if (v === null || v === undefined) return '<value><string></string></value>';
  if (typeof v === 'string') return `<value><string>${escapeXml(v)}</string></value>`;
  if (typeof v === 'boolean') return `<value><boolean>${v ? 1 : 0}</boolean></value>`;
  if (typeof v === 'number')
    return Number.isInteger(v) && Math.abs(v) < 2 ** 31 ? `<value><int>${v}</int></value>` : `<value><double>${v}</double></value>`;
  if (Buffer.isBuffer(v)) return `<value><base64>${v.toString('base64')}</base64></value>`;
  if (Array.isArray(v)) return `<value><array><data>${v.map(encodeValue).join('')}</data></array></value>`;
  return `<value><struct>${Object.entries(v)
    .map(([k, x]) => `<member><name>${escapeXml(k)}</name>${encodeValue(x)}</member>`)
    .join('')}</struct></value>`;
}

export function encodeResponse(v: XmlRpcValue): string {
  return `<?xml version="1.0"?>\n<methodResponse><params><param>${encodeValue(v)}</param></params></methodResponse>\n`;
}

export function encodeFault(code: number, message: string): string {
  return `<?xml version="1.0"?>\n<methodResponse><fault>${encodeValue({ faultCode: code, faultString: message })}</fault></methodResponse>\n`;
}
