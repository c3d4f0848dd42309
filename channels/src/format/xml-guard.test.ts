import { describe, expect, it } from 'vitest';
import {
  BILLION_LAUGHS,
  CONSTRUCTOR_ELEMENT,
  EXTERNAL_DTD,
  PROCESSING_INSTRUCTION,
  PROTO_ATTRIBUTE,
  PROTO_ELEMENT,
  UNDECLARED_ENTITY,
  XXE,
} from './hostile.js';
import { parseXmlStrict } from './xml-guard.js';

const opts = { what: 'doc', maxBytes: 1 << 20 };
const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
};

describe('parseXmlStrict', () => {
  it('builds a namespace-aware tree with attributes in a Map', () => {
    const root = parseXmlStrict(
      '<?xml version="1.0" encoding="UTF-8"?><a xmlns:s="urn:s" x="1"><s:b>t&amp;&#65;<![CDATA[<c>]]></s:b></a>',
      opts,
    );
    expect(root.local).toBe('a');
    expect(root.attributes).toEqual(new Map([['x', '1']]));
    expect(root.children[0]).toMatchObject({ uri: 'urn:s', local: 'b', name: 's:b', text: 't&A<c>' });
  });

  it.each([
    ['billion laughs', BILLION_LAUGHS, 'CHAN_ERR_XML_FORBIDDEN'],
    ['an external entity (XXE)', XXE, 'CHAN_ERR_XML_FORBIDDEN'],
    ['an external DTD', EXTERNAL_DTD, 'CHAN_ERR_XML_FORBIDDEN'],
    ['an undeclared entity', UNDECLARED_ENTITY, 'CHAN_ERR_XML_MALFORMED'],
    ['a __proto__ element', PROTO_ELEMENT, 'CHAN_ERR_XML_FORBIDDEN'],
    ['a __proto__ attribute', PROTO_ATTRIBUTE, 'CHAN_ERR_XML_FORBIDDEN'],
    ['constructor/prototype elements', CONSTRUCTOR_ELEMENT, 'CHAN_ERR_XML_FORBIDDEN'],
    ['a processing instruction', PROCESSING_INSTRUCTION, 'CHAN_ERR_XML_FORBIDDEN'],
    ['a mismatched close tag', '<a><b></a></b>', 'CHAN_ERR_XML_MALFORMED'],
    ['an unclosed element', '<a><b>', 'CHAN_ERR_XML_MALFORMED'],
    ['two roots', '<a/><b/>', 'CHAN_ERR_XML_MALFORMED'],
    ['bare text', 'hello', 'CHAN_ERR_XML_MALFORMED'],
    ['an unbound prefix', '<x:a/>', 'CHAN_ERR_XML_MALFORMED'],
    ['a declared non-UTF-8 encoding', '<?xml version="1.0" encoding="ISO-8859-1"?><a/>', 'CHAN_ERR_XML_FORBIDDEN'],
    ['deep nesting', `${'<a>'.repeat(40)}${'</a>'.repeat(40)}`, 'CHAN_ERR_TOO_LARGE'],
  ])('refuses %s', (_label, doc, expected) => {
    expect(code(() => parseXmlStrict(doc, opts))).toBe(expected);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('refuses invalid UTF-8 bytes', () => {
    expect(code(() => parseXmlStrict(new Uint8Array([0x3c, 0x61, 0xff, 0x2f, 0x3e]), opts))).toBe('CHAN_ERR_XML_MALFORMED');
  });

  it('checks the byte cap before decoding or parsing', () => {
    const big = new Uint8Array(2048).fill(0xff);
    expect(code(() => parseXmlStrict(big, { what: 'doc', maxBytes: 1024 }))).toBe('CHAN_ERR_TOO_LARGE');
  });

  it('caps the number of elements', () => {
    expect(code(() => parseXmlStrict(`<a>${'<b/>'.repeat(50)}</a>`, { ...opts, maxElements: 10 }))).toBe('CHAN_ERR_TOO_LARGE');
  });

  it('names the document and line in its errors', () => {
    expect(() => parseXmlStrict('<a>\n<b>\n</a>', { what: 'feed', maxBytes: 100 })).toThrow(/feed, line 3/);
  });
});
