import { describe, expect, it } from 'vitest';
import { BerError, BerReader, boolean, integer, readHeader, utf8 } from './ber.js';
import { int, tlv } from './test-support/wire.js';

describe('BerReader', () => {
  it('reads short and long definite lengths', () => {
    expect(readHeader(Buffer.from([0x30, 0x05]))).toEqual({ tag: 0x30, headerLength: 2, length: 5 });
    expect(readHeader(Buffer.from([0x30, 0x82, 0x01, 0x00]))).toEqual({ tag: 0x30, headerLength: 4, length: 256 });
    expect(readHeader(Buffer.from([0x30]))).toBeUndefined();
    expect(readHeader(Buffer.from([0x30, 0x82, 0x01]))).toBeUndefined();
  });

  it('refuses indefinite lengths, lengths over four bytes and multi-byte tags', () => {
    expect(() => readHeader(Buffer.from([0x30, 0x80]))).toThrow(BerError);
    expect(() => readHeader(Buffer.from([0x30, 0x85, 1, 1, 1, 1, 1]))).toThrow(BerError);
    expect(() => readHeader(Buffer.from([0x1f, 0x01]))).toThrow(BerError);
  });

  it('never reads past its buffer', () => {
    const r = new BerReader(Buffer.from([0x04, 0x05, 0x61, 0x62]));
    expect(() => r.next()).toThrow(/overruns/);
    expect(() => new BerReader(Buffer.from([0x04])).next()).toThrow(/truncated/);
  });

  it('walks elements, optional ones and rejects trailing data', () => {
    const r = new BerReader(Buffer.concat([int(5), tlv(0x04, 'hi'), int(7, 0x0a)]));
    expect(integer(r.expect(0x02, 'a'))).toBe(5);
    expect(r.optional(0x01, 'b')).toBeUndefined();
    expect(utf8(r.expect(0x04, 'c'))).toBe('hi');
    expect(() => r.end('x')).toThrow(/trailing/);
    expect(integer(r.next())).toBe(7);
    r.end('x');
  });

  it('decodes integers in two’s complement up to four bytes, booleans and strict UTF-8', () => {
    for (const n of [0, 1, 127, 128, 255, 256, 2 ** 31 - 1, -1, -128, -129]) expect(integer({ tag: 2, value: int(n).subarray(2) })).toBe(n);
    expect(() => integer({ tag: 2, value: Buffer.alloc(5) })).toThrow(BerError);
    expect(() => integer({ tag: 2, value: Buffer.alloc(0) })).toThrow(BerError);
    expect(boolean({ tag: 1, value: Buffer.from([0xff]) })).toBe(true);
    expect(() => boolean({ tag: 1, value: Buffer.from([1, 1]) })).toThrow(BerError);
    expect(() => utf8({ tag: 4, value: Buffer.from([0xc3, 0x28]) })).toThrow(/UTF-8/);
    expect(() => new BerReader(Buffer.concat([int(1), int(2)])).rest('x', 1)).toThrow(/more than 1/);
  });
});
