/**
 * The encrypted container: the header, then the payload in AES-256-GCM chunks. Each chunk's nonce is
 * its index (11 bytes) and a final flag (1 byte), and every chunk authenticates the whole header, so
 * a reordered, dropped, repeated, appended or changed chunk fails, and so does a file cut short
 * (the header's payload length and the final flag both say where it must end). Plaintext leaves
 * `openBackup` only after its chunk's tag has been checked.
 *
 * @example
 * await pipeline(Readable.from(encryptPayload(files(), { passphrase, payloadBytes })), createWriteStream(tmp));
 * const backup = await openBackup('/backups/m1.stormbak');
 * for await (const plain of (await backup.unlock(passphrase)).payload()) ...;
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { type FileHandle, open } from 'node:fs/promises';
import { BackupErr } from './errors.js';
import {
  DEFAULT_CHUNK_BYTES,
  encodeHeaderBody,
  HEADER_BYTES,
  type ParsedHeader,
  parseHeader,
  SALT_BYTES,
  type ScryptParams,
  STRONG_SCRYPT,
} from './header.js';
import { type BackupKeys, deriveKeys, headerMac, headerMacMatches } from './keys.js';

export const TAG_BYTES = 16;

export interface EncryptOptions {
  readonly passphrase: string;
  /** Exactly how many bytes `source` yields; the header records it. */
  readonly payloadBytes: number;
  readonly kdf?: ScryptParams;
  readonly chunkBytes?: number;
}

export function chunkCount(payloadBytes: number, chunkBytes: number): number {
  return Math.max(1, Math.ceil(payloadBytes / chunkBytes));
}

/** The file's exact length for a header: a different length is a cut-short or extended file. */
export function containerBytes(h: Pick<ParsedHeader, 'payloadBytes' | 'chunkBytes'>): number {
  return HEADER_BYTES + h.payloadBytes + TAG_BYTES * chunkCount(h.payloadBytes, h.chunkBytes);
}

/** STREAM's nonce (as in age): the chunk's index, big-endian in 11 bytes, then 1 on the last chunk. */
export function chunkNonce(index: number, final: boolean): Buffer {
  const n = Buffer.alloc(12);
  n.writeBigUInt64BE(BigInt(index), 3);
  n.writeUInt8(final ? 1 : 0, 11);
  return n;
}

function sealChunk(keys: BackupKeys, aad: Buffer, index: number, final: boolean, plain: Buffer): Buffer {
  const c = createCipheriv('aes-256-gcm', keys.payloadKey, chunkNonce(index, final), { authTagLength: TAG_BYTES });
  c.setAAD(aad);
  return Buffer.concat([c.update(plain), c.final(), c.getAuthTag()]);
}

/** Header then sealed chunks; throws when `source` yields more or fewer bytes than `payloadBytes`. */
export async function* encryptPayload(source: AsyncIterable<Buffer>, opts: EncryptOptions): AsyncGenerator<Buffer> {
  const chunkBytes = opts.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  const fields = { kdf: opts.kdf ?? STRONG_SCRYPT, salt: randomBytes(SALT_BYTES), chunkBytes, payloadBytes: opts.payloadBytes };
  const body = encodeHeaderBody(fields);
  const keys = await deriveKeys(opts.passphrase, fields);
  const header = Buffer.concat([body, headerMac(keys, body)]);
  yield header;
  const total = chunkCount(opts.payloadBytes, chunkBytes);
  let index = 0;
  let seen = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const tooMuch = () => new Error(`the payload is longer than the ${opts.payloadBytes} bytes announced`);
  for await (const piece of source) {
    seen += piece.length;
    if (seen > opts.payloadBytes) throw tooMuch();
    pending.push(piece);
    pendingBytes += piece.length;
    // A full chunk is sealed as final only when it is the last one the header announces.
    while (pendingBytes >= chunkBytes && index < total - 1) {
      const all = Buffer.concat(pending);
      yield sealChunk(keys, header, index, false, all.subarray(0, chunkBytes));
      index += 1;
      pending = [all.subarray(chunkBytes)];
      pendingBytes = all.length - chunkBytes;
    }
  }
  if (seen !== opts.payloadBytes) throw new Error(`the payload ended after ${seen} of the ${opts.payloadBytes} bytes announced`);
  yield sealChunk(keys, header, index, true, Buffer.concat(pending));
}

export interface UnlockedBackup {
  readonly header: ParsedHeader;
  readonly chunks: number;
  /** The plaintext, chunk by chunk, each only after its tag verified; throws MGR_ERR_BACKUP_DAMAGED. */
  payload(): AsyncGenerator<Buffer>;
}

export interface OpenedBackup {
  readonly path: string;
  readonly header: ParsedHeader;
  readonly fileBytes: number;
  /** Derives the keys (scrypt: about half a second), checks the header MAC, then the file's length. */
  unlock(passphrase: string): Promise<UnlockedBackup>;
  close(): Promise<void>;
}

/** Opens a backup file and parses its header; nothing is decrypted until `unlock`. */
export async function openBackup(path: string): Promise<OpenedBackup> {
  const fh = await open(path, 'r').catch((err: NodeJS.ErrnoException) => {
    throw new Error(`cannot read the backup ${path}: ${err.code ?? err.message}`);
  });
  try {
    const fileBytes = (await fh.stat()).size;
    const first = Buffer.alloc(Math.min(fileBytes, HEADER_BYTES));
    await fh.read(first, 0, first.length, 0);
    const header = parseHeader(first);
    return {
      path,
      header,
      fileBytes,
      unlock: async (passphrase) => {
        const keys = await deriveKeys(passphrase, header);
        if (!headerMacMatches(keys, header)) throw BackupErr.MGR_ERR_BACKUP_PASSPHRASE(path);
        const expected = containerBytes(header);
        if (fileBytes < expected) throw BackupErr.MGR_ERR_BACKUP_TRUNCATED(`${path} holds ${fileBytes} of its ${expected} bytes`);
        if (fileBytes > expected) throw BackupErr.MGR_ERR_BACKUP_DAMAGED(`${path} has ${fileBytes - expected} bytes after its last chunk`);
        const chunks = chunkCount(header.payloadBytes, header.chunkBytes);
        return { header, chunks, payload: () => readChunks(fh, header, keys, chunks) };
      },
      close: () => fh.close(),
    };
  } catch (err) {
    await fh.close();
    throw err;
  }
}

async function* readChunks(fh: FileHandle, header: ParsedHeader, keys: BackupKeys, chunks: number): AsyncGenerator<Buffer> {
  let position = HEADER_BYTES;
  for (let i = 0; i < chunks; i += 1) {
    const final = i === chunks - 1;
    const plainBytes = final ? header.payloadBytes - header.chunkBytes * (chunks - 1) : header.chunkBytes;
    const sealed = Buffer.alloc(plainBytes + TAG_BYTES);
    const { bytesRead } = await fh.read(sealed, 0, sealed.length, position);
    // The length was checked at unlock; a file that shrank since is cut short all the same.
    if (bytesRead !== sealed.length) throw BackupErr.MGR_ERR_BACKUP_TRUNCATED(`chunk ${i + 1} of ${chunks} ends early`);
    position += sealed.length;
    const d = createDecipheriv('aes-256-gcm', keys.payloadKey, chunkNonce(i, final), { authTagLength: TAG_BYTES });
    d.setAAD(header.bytes);
    d.setAuthTag(sealed.subarray(plainBytes));
    let plain: Buffer;
    try {
      plain = Buffer.concat([d.update(sealed.subarray(0, plainBytes)), d.final()]);
    } catch {
      throw BackupErr.MGR_ERR_BACKUP_DAMAGED(`chunk ${i + 1} of ${chunks} fails authentication (a changed byte, or chunks moved)`);
    }
    yield plain;
  }
}
