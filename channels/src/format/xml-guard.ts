/**
 * The hostile-input gate every channel document passes before anything reads its fields: a byte
 * cap checked before parsing, strict UTF-8, a strict well-formedness parse (saxes) that refuses
 * any DOCTYPE (so no entity can be declared, expanded or fetched), processing instructions, and
 * element or attribute names that could reach an object prototype; plus depth and count caps.
 * The tree it returns keeps attributes in Maps and children in arrays, never in plain objects.
 */
import { SaxesParser, type SaxesTagNS } from 'saxes';
import type { ErrorFactory } from '../../../common/errors.js';
import { ChanErr } from '../errors.js';

export interface XmlElement {
  /** Namespace URI, '' when none. */
  readonly uri: string;
  readonly local: string;
  /** The qualified name as written, e.g. `storm:name`. */
  readonly name: string;
  /** Plain attributes by local name; namespaced ones as `{uri}local`; xmlns declarations left out. */
  readonly attributes: ReadonlyMap<string, string>;
  readonly children: XmlElement[];
  /** Direct text and CDATA content, concatenated. */
  text: string;
  readonly line: number;
}

export interface XmlGuardOptions {
  /** Named in every error, e.g. `feed` or `descriptor hello-web 1.0.0`. */
  readonly what: string;
  readonly maxBytes: number;
  readonly maxDepth?: number;
  readonly maxElements?: number;
}

/** Names that, used as object keys by a naive XML-to-object mapper, reach Object.prototype. */
export const FORBIDDEN_NAMES: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** Checks the byte cap, decodes strict UTF-8 and parses into a tree; throws CHAN_ERR_* on anything amiss. */
export function parseXmlStrict(input: Uint8Array | string, opts: XmlGuardOptions): XmlElement {
  const text = decodeCapped(input, opts.what, opts.maxBytes);
  rejectDeclarations(text, opts.what);
  return parseTree(text, opts);
}

/** The input as text, after the byte cap (checked before any decoding) and strict UTF-8 decoding. */
export function decodeCapped(input: Uint8Array | string, what: string, maxBytes: number): string {
  const bytes = typeof input === 'string' ? Buffer.byteLength(input, 'utf8') : input.byteLength;
  if (bytes > maxBytes) throw ChanErr.CHAN_ERR_TOO_LARGE(`${what} is ${bytes} bytes, the limit is ${maxBytes}`);
  if (typeof input === 'string') return input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(input);
  } catch (err) {
    throw ChanErr.CHAN_ERR_XML_MALFORMED(`${what} is not valid UTF-8`, { cause: err });
  }
}

// Refused before parsing, wherever they appear: no DTD means no entity declarations at all.
function rejectDeclarations(text: string, what: string): void {
  const m = /<!\s*(DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)/i.exec(text);
  if (m) throw ChanErr.CHAN_ERR_XML_FORBIDDEN(`${what} contains <!${m[1]}: DTDs and entity declarations are not allowed`);
}

function parseTree(text: string, opts: XmlGuardOptions): XmlElement {
  const { what } = opts;
  const maxDepth = opts.maxDepth ?? 32;
  const maxElements = opts.maxElements ?? 200_000;
  const parser = new SaxesParser({ xmlns: true, position: true });
  const fail = (factory: ErrorFactory, message: string): never => {
    throw factory(`${what}, line ${parser.line}: ${message}`);
  };
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let count = 0;

  parser.on('error', (err) => fail(ChanErr.CHAN_ERR_XML_MALFORMED, err.message.replace(/^undefined:\d+:\d+: /, '')));
  parser.on('doctype', () => fail(ChanErr.CHAN_ERR_XML_FORBIDDEN, 'DOCTYPE is not allowed'));
  parser.on('processinginstruction', (pi) =>
    fail(ChanErr.CHAN_ERR_XML_FORBIDDEN, `processing instruction <?${pi.target}?> is not allowed`),
  );
  parser.on('xmldecl', (decl) => {
    if (decl.encoding !== undefined && !/^utf-?8$/i.test(decl.encoding))
      fail(ChanErr.CHAN_ERR_XML_FORBIDDEN, `encoding ${decl.encoding} is not allowed (UTF-8 only)`);
  });
  parser.on('opentag', (tag: SaxesTagNS) => {
    if (++count > maxElements) fail(ChanErr.CHAN_ERR_TOO_LARGE, `more than ${maxElements} elements`);
    if (stack.length >= maxDepth) fail(ChanErr.CHAN_ERR_TOO_LARGE, `elements nested deeper than ${maxDepth}`);
    checkName(tag.prefix, tag.local, 'element', fail);
    const attributes = new Map<string, string>();
    for (const attr of Object.values(tag.attributes)) {
      checkName(attr.prefix, attr.local, 'attribute', fail);
      if (attr.prefix === 'xmlns' || (attr.prefix === '' && attr.local === 'xmlns')) continue;
      attributes.set(attr.uri ? `{${attr.uri}}${attr.local}` : attr.local, attr.value);
    }
    const el: XmlElement = { uri: tag.uri, local: tag.local, name: tag.name, attributes, children: [], text: '', line: parser.line };
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(el);
    else root = el;
    stack.push(el);
  });
  parser.on('closetag', () => void stack.pop());
  const onText = (t: string): void => {
    const top = stack[stack.length - 1];
    if (top) top.text += t;
  };
  parser.on('text', onText);
  parser.on('cdata', onText);

  parser.write(text).close();
  if (!root) return fail(ChanErr.CHAN_ERR_XML_MALFORMED, 'no root element');
  return root;
}

function checkName(prefix: string, local: string, kind: string, fail: (f: ErrorFactory, m: string) => never): void {
  if (FORBIDDEN_NAMES.has(local) || FORBIDDEN_NAMES.has(prefix))
    fail(ChanErr.CHAN_ERR_XML_FORBIDDEN, `${kind} name ${prefix ? `${prefix}:` : ''}${local} is not allowed`);
}
