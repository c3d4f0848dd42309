import { describe, expect, it } from 'vitest';
import { encodeFault, encodeResponse, parseMethodCall } from './codec.js';

const call = (method: string, params: string) =>
  `<?xml version="1.0"?><methodCall><methodName>${method}</methodName><params>${params}</params></methodCall>`;

describe('XML-RPC codec', () => {
  it('parses every value type, untyped values as strings', () => {
    const c = parseMethodCall(
      call(
        'storm.registerRecord',
        '<param><value><string>MX</string></value></param><param><value>@</value></param><param><value><int>10</int></value></param>' +
          '<param><value><boolean>1</boolean></value></param><param><value><double>1.5</double></value></param>' +
          '<param><value><array><data><value><i4>1</i4></value><value>x</value></data></array></value></param>' +
          '<param><value><struct><member><name>phase</name><value>applied</value></member></struct></value></param>' +
          '<param><value><base64>aGk=</base64></value></param>',
      ),
    );
    expect(c.method).toBe('storm.registerRecord');
    expect(c.params.slice(0, 6)).toEqual(['MX', '@', 10, true, 1.5, [1, 'x']]);
    expect({ ...(c.params[6] as object) }).toEqual({ phase: 'applied' });
    expect(c.params[7]).toEqual(Buffer.from('hi'));
  });

  it('parses a call without params', () => {
    expect(parseMethodCall('<methodCall><methodName>storm.getConfig</methodName></methodCall>')).toEqual({
      method: 'storm.getConfig',
      params: [],
    });
  });

  it('refuses DTDs, entities, unknown elements, bad scalars and deep nesting', () => {
    expect(() => parseMethodCall('<!DOCTYPE x [<!ENTITY a "b">]><methodCall><methodName>&a;</methodName></methodCall>')).toThrow(/DTD/);
    expect(() => parseMethodCall(call('m', '<param><value><script/></value></param>'))).toThrow(/unexpected <script>/);
    expect(() => parseMethodCall(call('m', '<param><value><int>abc</int></value></param>'))).toThrow(/integer/);
    expect(() => parseMethodCall(call('m', '<param><value><boolean>2</boolean></value></param>'))).toThrow(/boolean/);
    expect(() =>
      parseMethodCall(call('m', `<param>${'<value><array><data>'.repeat(30)}${'</data></array></value>'.repeat(30)}</param>`)),
    ).toThrow(/deeply/);
    expect(() => parseMethodCall('<methodCall><params/></methodCall>')).toThrow(/methodName/);
    expect(() => parseMethodCall('not xml')).toThrow();
  });

  it('keeps member names off prototypes', () => {
    const c = parseMethodCall(
      call(
        'm',
        '<param><value><struct><member><name>__proto__</name><value><struct><member><name>polluted</name><value>yes</value></member></struct></value></member></struct></value></param>',
      ),
    );
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.getPrototypeOf(c.params[0])).toBeNull();
  });

  it('encodes responses and faults with escaping', () => {
    expect(encodeResponse({ a: [1, 'x<y', true], b: 2.5 })).toContain(
      '<member><name>a</name><value><array><data><value><int>1</int></value><value><string>x&lt;y</string></value><value><boolean>1</boolean></value></data></array></value></member>',
    );
    expect(encodeFault(3, 'no & no')).toContain('<name>faultString</name><value><string>no &amp; no</string></value>');
  });
});
