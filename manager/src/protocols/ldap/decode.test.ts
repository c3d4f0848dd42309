import { describe, expect, it } from 'vitest';
import { DecodeError, decodeRequest } from './decode.js';
import { Op } from './protocol.js';
import {
  bindRequest,
  compareRequest,
  control,
  extendedRequest,
  f,
  int,
  msg,
  saslBind,
  searchRequest,
  str,
  tlv,
  unbindRequest,
} from './test-support/wire.js';

describe('decodeRequest', () => {
  it('decodes a simple bind, keeping the password bytes', () => {
    expect(decodeRequest(msg(7, bindRequest('uid=alice,dc=x', 'pässword')))).toEqual({
      op: 'bind',
      id: 7,
      controls: [],
      version: 3,
      name: 'uid=alice,dc=x',
      auth: { kind: 'simple', password: Buffer.from('pässword') },
    });
    expect(decodeRequest(msg(1, saslBind('', 'EXTERNAL')))).toMatchObject({ op: 'bind', auth: { kind: 'sasl', mechanism: 'EXTERNAL' } });
    expect(decodeRequest(msg(1, tlv(0x60, int(3), str(''), tlv(0x81, 'x'))))).toMatchObject({
      op: 'bind',
      auth: { kind: 'other', tag: 0x81 },
    });
  });

  it('decodes a search with its filter tree exactly as sent (no string round trip)', () => {
    const filter = f.and(
      f.eq('objectClass', 'inetOrgPerson'),
      f.or(f.sub('mail', 'a', ['b'], 'c'), f.not(f.eq('uid', '*)(uid=*'))),
      f.present('cn'),
      f.ge('uidNumber', '5'),
      f.eq('cn', ''),
    );
    const req = decodeRequest(
      msg(2, searchRequest('ou=people,dc=x', filter, { scope: 1, sizeLimit: 3, attributes: ['uid', 'mail;lang-en'] })),
    );
    expect(req).toEqual({
      op: 'search',
      id: 2,
      controls: [],
      base: 'ou=people,dc=x',
      scope: 'one',
      sizeLimit: 3,
      timeLimit: 0,
      typesOnly: false,
      attributes: ['uid', 'mail;lang-en'],
      filter: {
        type: 'and',
        filters: [
          { type: 'equal', attribute: 'objectClass', value: 'inetOrgPerson' },
          {
            type: 'or',
            filters: [
              { type: 'substrings', attribute: 'mail', initial: 'a', any: ['b'], final: 'c' },
              { type: 'not', filter: { type: 'equal', attribute: 'uid', value: '*)(uid=*' } },
            ],
          },
          { type: 'present', attribute: 'cn' },
          { type: 'ge', attribute: 'uidNumber', value: '5' },
          { type: 'equal', attribute: 'cn', value: '' },
        ],
      },
    });
  });

  it('keeps a non-UTF-8 assertion value as null (it then matches nothing)', () => {
    const req = decodeRequest(msg(2, searchRequest('dc=x', f.eq('cn', Buffer.from([0xff, 0xfe])))));
    expect(req).toMatchObject({ filter: { type: 'equal', value: null } });
  });

  it('answers a filter past the limits with filter: null rather than an error', () => {
    let deep = f.present('cn');
    for (let i = 0; i < 40; i++) deep = f.not(deep);
    expect(decodeRequest(msg(3, searchRequest('dc=x', deep)))).toMatchObject({ op: 'search', filter: null });
    const wide = f.or(...Array.from({ length: 300 }, () => f.present('cn')));
    expect(decodeRequest(msg(3, searchRequest('dc=x', wide)))).toMatchObject({ op: 'search', filter: null });
  });

  it('decodes compare, extended, abandon, unbind and the write ops', () => {
    expect(decodeRequest(msg(4, compareRequest('uid=a,dc=x', 'mail', 'a@x')))).toEqual({
      op: 'compare',
      id: 4,
      controls: [],
      entry: 'uid=a,dc=x',
      attribute: 'mail',
      value: Buffer.from('a@x'),
    });
    expect(decodeRequest(msg(5, extendedRequest('1.3.6.1.4.1.4203.1.11.3')))).toEqual({
      op: 'extended',
      id: 5,
      controls: [],
      name: '1.3.6.1.4.1.4203.1.11.3',
      value: undefined,
    });
    expect(decodeRequest(msg(6, int(3, 0x50)))).toEqual({ op: 'abandon', id: 6, controls: [], target: 3 });
    expect(decodeRequest(msg(7, unbindRequest()))).toEqual({ op: 'unbind', id: 7, controls: [] });
    expect(decodeRequest(msg(8, tlv(0x68, str('cn=x'), tlv(0x30))))).toMatchObject({ op: 'write', responseOp: Op.addResponse });
    expect(decodeRequest(msg(8, tlv(0x4a, 'cn=x')))).toMatchObject({ op: 'write', responseOp: Op.delResponse });
    expect(decodeRequest(msg(8, tlv(0x66)))).toMatchObject({ op: 'write', responseOp: Op.modifyResponse });
    expect(decodeRequest(msg(8, tlv(0x6c)))).toMatchObject({ op: 'write', responseOp: Op.modDnResponse });
  });

  it('decodes controls with criticality and value', () => {
    const req = decodeRequest(
      msg(9, searchRequest('dc=x', f.present('cn')), [
        control('1.2.840.113556.1.4.319', true, Buffer.from([0x30, 0x00])),
        control('2.16.840.1.113730.3.4.2', false),
      ]),
    );
    expect(req.controls).toEqual([
      { type: '1.2.840.113556.1.4.319', critical: true, value: Buffer.from([0x30, 0x00]) },
      { type: '2.16.840.1.113730.3.4.2', critical: false, value: undefined },
    ]);
  });

  it('throws DecodeError for anything malformed', () => {
    const bad: Record<string, Buffer> = {
      'not a sequence': tlv(0x04, 'x'),
      'trailing bytes': Buffer.concat([msg(1, unbindRequest()), Buffer.from([0])]),
      'message id 0': msg(0, unbindRequest()),
      'negative message id': msg(-5, unbindRequest()),
      'five-byte id': tlv(0x30, tlv(0x02, Buffer.alloc(5)), unbindRequest()),
      'unknown op': msg(1, tlv(0x7e, 'x')),
      'a response op': msg(1, tlv(0x61, int(0, 0x0a), str(''), str(''))),
      'truncated bind': msg(1, tlv(0x60, int(3))),
      'bind name not UTF-8': msg(1, tlv(0x60, int(3), str(Buffer.from([0xff])), tlv(0x80, 'x'))),
      'unknown scope': msg(1, searchRequest('dc=x', f.present('cn'), { scope: 9 })),
      'negative size limit': msg(1, searchRequest('dc=x', f.present('cn'), { sizeLimit: -1 })),
      'unknown filter choice': msg(1, searchRequest('dc=x', tlv(0xaf, 'x'))),
      'empty substrings': msg(1, searchRequest('dc=x', tlv(0xa4, str('cn'), tlv(0x30)))),
      'final before any': msg(1, searchRequest('dc=x', tlv(0xa4, str('cn'), tlv(0x30, tlv(0x82, 'a'), tlv(0x81, 'b'))))),
      'extensible without rule or type': msg(1, searchRequest('dc=x', tlv(0xa9, tlv(0x83, 'v')))),
      'control not a sequence': msg(1, unbindRequest(), [str('1.2.3')]),
      'control type not an OID': msg(1, unbindRequest(), [control('paged', false)]),
      'control with garbage': msg(1, unbindRequest(), [tlv(0x30, str('1.2.3'), int(5))]),
      'attribute selector not a string': msg(
        1,
        tlv(0x63, str('dc=x'), int(2, 0x0a), int(0, 0x0a), int(0), int(0), tlv(0x01, Buffer.from([0])), f.present('cn'), tlv(0x30, int(1))),
      ),
    };
    for (const [what, bytes] of Object.entries(bad)) expect(() => decodeRequest(bytes), what).toThrow(DecodeError);
  });
});
