/**
 * The backup file's header (73 bytes, integers big-endian): what a reader needs before it can
 * derive the key, and a MAC that proves the passphrase before any chunk is opened. Layout in
 * docs/backup.md ("The file format").
 *
 * @example
 * const body = encodeHeaderBody({ kdf: STRONG_SCRYPT, salt, chunkBytes: 65536, payloadBytes: 1234 });
 * const header = parseHeader(firstBytes); // throws MGR_ERR_BACKUP_FORMAT / _TRUNCATED
 */
import { BackupErr } from './errors.js';

export const MAGIC = Buffer.from('STORMBAK', 'latin1');
export const FORMAT_VERSION = 1;
/** The KDF byte: 1 is scrypt; any other value is refused. */
export const KDF_SCRYPT = 1;
export const SALT_BYTES = 16;
export const MAC_BYTES = 32;
/** magic 8, version 1, kdf 1, log2 N 1, r 1, p 1, salt 16, chunk size 4, payload length 8. */
export const HEADER_BODY_BYTES = 41;
export const HEADER_BYTES = HEADER_BODY_BYTES + MAC_BYTES;
export const DEFAULT_CHUNK_BYTES = 64 * 1024;

export interface ScryptParams {
  /** N = 2^log2N. */
  readonly log2N: number;
  readonly r: number;
  readonly p: number;
}

/** What OWASP's password storage sheet lists for scrypt (N=2^17, r=8, p=1): 128 MiB and about half a second. */
export const STRONG_SCRYPT: ScryptParams = { log2N: 17, r: 8, p: 1 };

/** What a reader accepts: enough to refuse a header that would make it spend gigabytes or minutes. */
const LIMITS = { log2N: [10, 20], r: [1, 32], p: [1, 4], chunkBytes: [1024, 16 * 1024 * 1024] } as const;
const MAX_SCRYPT_MEMORY = 1024 * 1024 * 1024;

export interface HeaderFields {
  readonly kdf: ScryptParams;
  readonly salt: Buffer;
  readonly chunkBytes: number;
  /** Plaintext bytes in the payload (manifest and files), so a cut-short file is found before decrypting. */
  readonly payloadBytes: number;
}

export interface ParsedHeader extends HeaderFields {
  /** The 41 bytes the MAC covers. */
  readonly body: Buffer;
  readonly mac: Buffer;
  /** All 73 bytes: every chunk's additional authenticated data. */
  readonly bytes: Buffer;
}

/** Bytes scrypt needs for these parameters (Node's maxmem must be above it). */
export function scryptMemory(kdf: ScryptParams): number {
  return 128 * 2 ** kdf.log2N * kdf.r;
}

export function checkFields(h: HeaderFields): void {
  const bad = (what: string) => BackupErr.MGR_ERR_BACKUP_FORMAT(what);
  const within = (v: number, [lo, hi]: readonly [number, number]) => Number.isInteger(v) && v >= lo && v <= hi;
  if (
    !within(h.kdf.log2N, LIMITS.log2N) ||
    !within(h.kdf.r, LIMITS.r) ||
    !within(h.kdf.p, LIMITS.p) ||
    scryptMemory(h.kdf) > MAX_SCRYPT_MEMORY
  ) {
    throw bad(`scrypt parameters N=2^${h.kdf.log2N} r=${h.kdf.r} p=${h.kdf.p} are outside what this version accepts (header damaged?)`);
  }
  if (!within(h.chunkBytes, LIMITS.chunkBytes)) throw bad(`chunk size ${h.chunkBytes} is outside 1 KiB..16 MiB (header damaged?)`);
  if (!Number.isSafeInteger(h.payloadBytes) || h.payloadBytes < 0) throw bad('payload length out of range (header damaged?)');
  if (h.salt.length !== SALT_BYTES) throw bad(`salt of ${h.salt.length} bytes`);
}

export function encodeHeaderBody(h: HeaderFields): Buffer {
  checkFields(h);
  const b = Buffer.alloc(HEADER_BODY_BYTES);
  MAGIC.copy(b, 0);
  b.writeUInt8(FORMAT_VERSION, 8);
  b.writeUInt8(KDF_SCRYPT, 9);
  b.writeUInt8(h.kdf.log2N, 10);
  b.writeUInt8(h.kdf.r, 11);
  b.writeUInt8(h.kdf.p, 12);
  h.salt.copy(b, 13);
  b.writeUInt32BE(h.chunkBytes, 29);
  b.writeBigUInt64BE(BigInt(h.payloadBytes), 33);
  return b;
}

/** Parses a file's first bytes (fewer than 73 when the file is shorter): foreign, cut short, or a header to check. */
export function parseHeader(first: Buffer): ParsedHeader {
  const magicSeen = Math.min(first.length, MAGIC.length);
  if (!first.subarray(0, magicSeen).equals(MAGIC.subarray(0, magicSeen)) || first.length === 0) {
    throw BackupErr.MGR_ERR_BACKUP_FORMAT('the file does not start with STORMBAK');
  }
  if (first.length < HEADER_BYTES)
    throw BackupErr.MGR_ERR_BACKUP_TRUNCATED(`${first.length} bytes, shorter than the ${HEADER_BYTES}-byte header`);
  const version = first.readUInt8(8);
  if (version !== FORMAT_VERSION)
    throw BackupErr.MGR_ERR_BACKUP_FORMAT(`format version ${version}; this storm-manager reads version ${FORMAT_VERSION}`);
  const kdfId = first.readUInt8(9);
  if (kdfId !== KDF_SCRYPT)
    throw BackupErr.MGR_ERR_BACKUP_FORMAT(`key derivation ${kdfId}; this storm-manager knows scrypt (${KDF_SCRYPT})`);
  const payload = first.readBigUInt64BE(33);
  const fields: HeaderFields = {
    kdf: { log2N: first.readUInt8(10), r: first.readUInt8(11), p: first.readUInt8(12) },
    salt: Buffer.from(first.subarray(13, 29)),
    chunkBytes: first.readUInt32BE(29),
    payloadBytes: payload > BigInt(Number.MAX_SAFE_INTEGER) ? -1 : Number(payload),
  };
  checkFields(fields);
  const bytes = Buffer.from(first.subarray(0, HEADER_BYTES));
  return { ...fields, body: bytes.subarray(0, HEADER_BODY_BYTES), mac: bytes.subarray(HEADER_BODY_BYTES), bytes };
}
