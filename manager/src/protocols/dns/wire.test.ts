import { describe, expect, it } from 'vitest';
import { query } from './test-support/fixtures.js';
import { parseQuery, readQuestion } from './wire.js';

describe('parseQuery', () => {
  it('reads id, question (lower-cased) and EDNS', () => {
    const out = parseQuery(query('WEB1.Storm.Internal', 'MX', { id: 7, edns: 4096 }));
    expect(out.kind).toBe('query');
    if (out.kind !== 'query') return;
    expect(out.query).toMatchObject({
      id: 7,
      rd: true,
      question: { name: 'web1.storm.internal', type: 15, klass: 1 },
      edns: { udpSize: 4096, version: 0 },
      plainName: true,
    });
  });

  it('drops what is shorter than a header, and responses', () => {
    expect(parseQuery(Buffer.alloc(11)).kind).toBe('drop');
    const response = query('a.b', 'A');
    response[2]! |= 0x80;
    expect(parseQuery(response).kind).toBe('drop');
  });

  it.each([
    [
      'no question',
      (b: Buffer) => {
        b.writeUInt16BE(0, 4);
        return b;
      },
    ],
    [
      'two questions',
      (b: Buffer) => {
        b.writeUInt16BE(2, 4);
        return b;
      },
    ],
    ['a truncated question', (b: Buffer) => b.subarray(0, b.length - 2)],
    [
      'a compression pointer in the question',
      (b: Buffer) => {
        b[12] = 0xc0;
        b[13] = 0;
        return b;
      },
    ],
    [
      'an answer record in a query',
      (b: Buffer) => {
        b.writeUInt16BE(1, 6);
        return b;
      },
    ],
    [
      'an additional record that overruns',
      (b: Buffer) => {
        b.writeUInt16BE(1, 10);
        return b;
      },
    ],
  ])('is FORMERR for %s', (_what, mutate) => {
    expect(parseQuery(mutate(query('web1.storm.internal', 'A'))).kind).toBe('formerr');
  });

  it('is NOTIMP for an opcode other than QUERY', () => {
    const b = query('storm.internal', 'SOA');
    b[2]! |= 5 << 3; // UPDATE
    expect(parseQuery(b).kind).toBe('notimp');
  });

  it('flags a name whose labels hold dots or control bytes', () => {
    const b = Buffer.concat([query('x', 'A').subarray(0, 12), Buffer.from([3, 0x61, 0x2e, 0x01, 0, 0, 1, 0, 1])]);
    const out = parseQuery(b);
    expect(out.kind === 'query' && out.query.plainName).toBe(false);
  });

  it('reads the question of a reply for matching', () => {
    expect(readQuestion(query('Example.ORG', 'AAAA'))).toEqual({ name: 'example.org', type: 28, klass: 1 });
    expect(readQuestion(Buffer.alloc(5))).toBeUndefined();
  });
});
