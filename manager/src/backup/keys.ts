/**
 * The backup's keys: scrypt turns the passphrase and the header's salt into 32 bytes, and HKDF-SHA256
 * splits them into the header MAC key and the AES-256-GCM payload key, so neither key is used twice.
 *
 * @example
 * const keys = await deriveKeys('correct horse battery staple', header);
 * if (!headerMacMatches(keys, header)) throw ...;
 */
import { createHmac, hkdfSync, scrypt, timingSafeEqual } from 'node:crypto';
import type { HeaderFields, ParsedHeader } from './header.js';
import { scryptMemory } from './header.js';

export interface BackupKeys {
  readonly macKey: Buffer;
  readonly payloadKey: Buffer;
}

export async function deriveKeys(passphrase: string, h: Pick<HeaderFields, 'kdf' | 'salt'>): Promise<BackupKeys> {
  // NFC: the same passphrase typed on another system's keyboard gives the same bytes.
  const secret = Buffer.from(passphrase.normalize('NFC'), 'utf8');
  const master = await new Promise<Buffer>((resolve, reject) =>
    scrypt(secret, h.salt, 32, { N: 2 ** h.kdf.log2N, r: h.kdf.r, p: h.kdf.p, maxmem: 2 * scryptMemory(h.kdf) }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
  const split = (info: string) => Buffer.from(hkdfSync('sha256', master, h.salt, info, 32));
  return { macKey: split('storm-backup v1 header mac'), payloadKey: split('storm-backup v1 payload') };
}

export function headerMac(keys: BackupKeys, body: Buffer): Buffer {
  return createHmac('sha256', keys.macKey).update(body).digest();
}

export function headerMacMatches(keys: BackupKeys, h: ParsedHeader): boolean {
  return timingSafeEqual(headerMac(keys, h.body), h.mac);
}
