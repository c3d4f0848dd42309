import { describe, expect, it } from 'vitest';
import { normalizeSerial, randomSerial, serialDerHex } from './serial.js';

describe('serial numbers', () => {
  it('are random, positive and at most 128 bits, in canonical form', () => {
    const serials = Array.from({ length: 200 }, randomSerial);
    expect(new Set(serials).size).toBe(200);
    for (const s of serials) {
      expect(s).toMatch(/^[1-9a-f][0-9a-f]{0,31}$/);
      expect(normalizeSerial(s)).toBe(s);
    }
  });

  it('normalise any hex spelling', () => {
    expect(normalizeSerial('00:AB:01')).toBe('ab01');
    expect(normalizeSerial('0xFF')).toBe('ff');
    expect(normalizeSerial(' 0001 ')).toBe('1');
  });

  it('refuse zero, non-hex and more than 20 octets', () => {
    for (const bad of ['', '0', '00', 'xyz', '12-34', 'ff'.repeat(21), `80${'00'.repeat(19)}`]) {
      expect(() => normalizeSerial(bad), bad).toThrow(expect.objectContaining({ code: 'MGR_ERR_PKI_SERIAL_INVALID' }));
    }
  });

  it('encode as minimal positive DER INTEGER contents', () => {
    expect(serialDerHex('1')).toBe('01');
    expect(serialDerHex('7f')).toBe('7f');
    expect(serialDerHex('80')).toBe('0080');
    expect(serialDerHex('abc')).toBe('0abc');
    expect(serialDerHex('ff01')).toBe('00ff01');
  });
});
