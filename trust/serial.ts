/**
 * Certificate serial numbers: 128 random bits (RFC 5280 §4.1.2.2 allows up to 20 octets; CA/B
 * Forum asks for at least 64 random bits). The canonical form everywhere in STORM (records, CRLs,
 * logs) is lowercase hex of the positive integer without leading zeros.
 */
import { randomBytes } from 'node:crypto';
import { PkiErr } from './errors.js';

const MAX_SERIAL_OCTETS = 20;

/**
 * A fresh random, positive, non-zero serial in canonical form.
 *
 * @example
 * randomSerial(); // '5f0c…' (up to 32 hex digits)
 */
export function randomSerial(): string {
  for (;;) {
    const value = BigInt(`0x${randomBytes(16).toString('hex')}`);
    if (value !== 0n) return value.toString(16);
  }
}

/**
 * Canonical form of a serial written as hex, with or without colons, `0x` or leading zeros, any case.
 *
 * @example
 * normalizeSerial('00:AB:01'); // 'ab01'
 */
export function normalizeSerial(serial: string): string {
  const hex = serial.trim().replace(/^0x/i, '').replaceAll(':', '');
  if (!/^[0-9a-fA-F]{1,42}$/.test(hex)) throw PkiErr.MGR_ERR_PKI_SERIAL_INVALID(JSON.stringify(serial));
  const value = BigInt(`0x${hex}`);
  if (value === 0n) throw PkiErr.MGR_ERR_PKI_SERIAL_INVALID('serial must be positive');
  const canonical = value.toString(16);
  if (serialDerHex(canonical).length / 2 > MAX_SERIAL_OCTETS) throw PkiErr.MGR_ERR_PKI_SERIAL_INVALID('longer than 20 octets');
  return canonical;
}

/** The content octets of the DER INTEGER for a canonical serial: minimal, with a 00 when the top bit is set. */
export function serialDerHex(canonical: string): string {
  const even = canonical.length % 2 ? `0${canonical}` : canonical;
  return parseInt(even.slice(0, 2), 16) >= 0x80 ? `00${even}` : even;
}
