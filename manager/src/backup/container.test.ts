import { createDecipheriv } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chunkCount, chunkNonce, containerBytes, encryptPayload, openBackup, TAG_BYTES } from './container.js';
import { encodeHeaderBody, HEADER_BODY_BYTES, HEADER_BYTES, parseHeader, type ScryptParams } from './header.js';
import { deriveKeys, headerMac } from './keys.js';

// A cheap KDF keeps a hundred unlocks fast; the format and every check are the same as with N=2^17.
const KDF: ScryptParams = { log2N: 10, r: 8, p: 1 };
const CHUNK = 1024;
const PASS = 'correct horse battery staple';

let dir: string;
beforeAll(async () => (dir = await mkdtemp(join(tmpdir(), 'storm-container-'))));
afterAll(() => rm(dir, { recursive: true, force: true }));

async function* pieces(data: Buffer, size = 333): AsyncGenerator<Buffer> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

async function seal(data: Buffer, opts: { chunkBytes?: number; payloadBytes?: number } = {}): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const b of encryptPayload(pieces(data), {
    passphrase: PASS,
    payloadBytes: opts.payloadBytes ?? data.length,
    kdf: KDF,
    chunkBytes: opts.chunkBytes ?? CHUNK,
  }))
    out.push(b);
  return Buffer.concat(out);
}

let n = 0;
async function open(bytes: Buffer, passphrase = PASS): Promise<Buffer> {
  const path = join(dir, `f${(n += 1)}`);
  await writeFile(path, bytes);
  const backup = await openBackup(path);
  try {
    const parts: Buffer[] = [];
    for await (const p of (await backup.unlock(passphrase)).payload()) parts.push(p);
    return Buffer.concat(parts);
  } finally {
    await backup.close();
  }
}

const payload = Buffer.from(Array.from({ length: 2600 }, (_, i) => (i * 7 + 3) % 256));

describe('the container', () => {
  it('round-trips payloads of every shape: empty, one byte, exact chunks, a partial last chunk', async () => {
    for (const size of [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 2600]) {
      const data = payload.length >= size ? payload.subarray(0, size) : Buffer.alloc(size, 9);
      const sealed = await seal(data);
      expect(sealed.length).toBe(containerBytes({ payloadBytes: size, chunkBytes: CHUNK }));
      expect(sealed.length).toBe(HEADER_BYTES + size + TAG_BYTES * chunkCount(size, CHUNK));
      expect(await open(sealed)).toEqual(data);
    }
  });

  it('writes the documented header: magic, version, scrypt parameters, salt, chunk size, length, MAC', async () => {
    const sealed = await seal(payload);
    expect(sealed.subarray(0, 8).toString('latin1')).toBe('STORMBAK');
    expect([...sealed.subarray(8, 13)]).toEqual([1, 1, KDF.log2N, KDF.r, KDF.p]);
    expect(sealed.readUInt32BE(29)).toBe(CHUNK);
    expect(sealed.readBigUInt64BE(33)).toBe(BigInt(payload.length));
    const h = parseHeader(sealed);
    expect(headerMac(await deriveKeys(PASS, h), sealed.subarray(0, HEADER_BODY_BYTES))).toEqual(
      sealed.subarray(HEADER_BODY_BYTES, HEADER_BYTES),
    );
    // A fresh salt each time: the same passphrase never gives the same key twice.
    expect(parseHeader(await seal(payload)).salt).not.toEqual(h.salt);
    expect(chunkNonce(2, true).toString('hex')).toBe('000000000000000000000201');
  });

  it('refuses a wrong passphrase before decrypting anything', async () => {
    await expect(open(await seal(payload), 'correct horse battery stapler')).rejects.toMatchObject({ code: 'MGR_ERR_BACKUP_PASSPHRASE' });
  });

  it('refuses a changed byte anywhere: each header byte, and the first, middle and last bytes of every chunk and tag', async () => {
    const sealed = await seal(payload);
    const chunks = chunkCount(payload.length, CHUNK);
    const positions = Array.from({ length: HEADER_BYTES }, (_, i) => i);
    let start = HEADER_BYTES;
    for (let c = 0; c < chunks; c += 1) {
      const len = (c === chunks - 1 ? payload.length - CHUNK * c : CHUNK) + TAG_BYTES;
      positions.push(start, start + (len >> 1), start + len - TAG_BYTES - 1, start + len - TAG_BYTES, start + len - 1);
      start += len;
    }
    expect(start).toBe(sealed.length);
    const seen = new Map<string, number>();
    for (const at of positions) {
      const bad = Buffer.from(sealed);
      bad[at] = bad[at]! ^ 0x01;
      const err = await open(bad).then(
        () => undefined,
        (e: { code?: string }) => e,
      );
      expect(err, `flipped byte ${at} went unnoticed`).toBeDefined();
      seen.set(err!.code!, (seen.get(err!.code!) ?? 0) + 1);
      // Only a header byte can be mistaken for a wrong passphrase; a chunk byte is always damage.
      if (at >= HEADER_BYTES) expect(err).toMatchObject({ code: 'MGR_ERR_BACKUP_DAMAGED' });
    }
    expect([...seen.keys()].sort()).toEqual(['MGR_ERR_BACKUP_DAMAGED', 'MGR_ERR_BACKUP_FORMAT', 'MGR_ERR_BACKUP_PASSPHRASE']);
  });

  it('refuses a file cut short anywhere, and one with bytes after its last chunk', async () => {
    const sealed = await seal(payload);
    for (const keep of [0, 5, HEADER_BYTES - 1, HEADER_BYTES, HEADER_BYTES + CHUNK + TAG_BYTES, sealed.length - 1]) {
      const why =
        keep === 0
          ? /does not start with STORMBAK/
          : keep < HEADER_BYTES
            ? /shorter than the 73-byte header/
            : new RegExp(`holds ${keep} of its ${sealed.length} bytes`);
      await expect(open(sealed.subarray(0, keep)), `cut to ${keep}`).rejects.toMatchObject({
        code: keep === 0 ? 'MGR_ERR_BACKUP_FORMAT' : 'MGR_ERR_BACKUP_TRUNCATED',
        message: expect.stringMatching(why),
      });
    }
    await expect(open(Buffer.concat([sealed, Buffer.from([0])]))).rejects.toMatchObject({
      code: 'MGR_ERR_BACKUP_DAMAGED',
      message: expect.stringMatching(/1 bytes after its last chunk/),
    });
  });

  it('refuses swapped chunks', async () => {
    const sealed = await seal(payload);
    const len = CHUNK + TAG_BYTES;
    const a = sealed.subarray(HEADER_BYTES, HEADER_BYTES + len);
    const b = sealed.subarray(HEADER_BYTES + len, HEADER_BYTES + 2 * len);
    const swapped = Buffer.concat([sealed.subarray(0, HEADER_BYTES), b, a, sealed.subarray(HEADER_BYTES + 2 * len)]);
    await expect(open(swapped)).rejects.toMatchObject({ code: 'MGR_ERR_BACKUP_DAMAGED', message: expect.stringMatching(/chunk 1 of 3/) });
  });

  it('binds every chunk to the header: under a header re-made with the passphrase for a shorter length, chunk 1 fails', async () => {
    const sealed = await seal(payload);
    const h = parseHeader(sealed);
    const keys = await deriveKeys(PASS, h);
    const body = encodeHeaderBody({ kdf: h.kdf, salt: h.salt, chunkBytes: CHUNK, payloadBytes: 2 * CHUNK });
    const header = Buffer.concat([body, headerMac(keys, body)]);
    const cut = Buffer.concat([header, sealed.subarray(HEADER_BYTES, HEADER_BYTES + 2 * (CHUNK + TAG_BYTES))]);
    await expect(open(cut)).rejects.toMatchObject({ code: 'MGR_ERR_BACKUP_DAMAGED', message: expect.stringMatching(/chunk 1 of 2/) });
  });

  it('binds every chunk to its index and to the final flag: only its own nonce opens it', async () => {
    const sealed = await seal(payload);
    const h = parseHeader(sealed);
    const { payloadKey } = await deriveKeys(PASS, h);
    const chunks = chunkCount(payload.length, CHUNK);
    const opens = (i: number, index: number, final: boolean) => {
      const at = HEADER_BYTES + i * (CHUNK + TAG_BYTES);
      const len = i === chunks - 1 ? payload.length - CHUNK * i : CHUNK;
      const d = createDecipheriv('aes-256-gcm', payloadKey, chunkNonce(index, final), { authTagLength: TAG_BYTES });
      d.setAAD(h.bytes);
      d.setAuthTag(sealed.subarray(at + len, at + len + TAG_BYTES));
      d.update(sealed.subarray(at, at + len));
      try {
        d.final();
        return true;
      } catch {
        return false;
      }
    };
    for (let i = 0; i < chunks; i += 1) {
      const final = i === chunks - 1;
      expect(opens(i, i, final)).toBe(true);
      expect(opens(i, i, !final)).toBe(false);
      expect(opens(i, i + 1, final)).toBe(false);
    }
  });

  it('refuses a foreign file, another version, and KDF parameters outside its limits before any work', async () => {
    await expect(open(Buffer.from('SQLite format 3\0'.padEnd(200, 'x')))).rejects.toMatchObject({
      code: 'MGR_ERR_BACKUP_FORMAT',
      message: expect.stringMatching(/does not start with STORMBAK/),
    });
    const sealed = await seal(payload);
    const v2 = Buffer.from(sealed);
    v2[8] = 2;
    await expect(open(v2)).rejects.toMatchObject({ code: 'MGR_ERR_BACKUP_FORMAT', message: expect.stringMatching(/format version 2/) });
    const huge = Buffer.from(sealed);
    huge[10] = 30;
    await expect(open(huge)).rejects.toMatchObject({ code: 'MGR_ERR_BACKUP_FORMAT', message: expect.stringMatching(/N=2\^30/) });
  });

  it('refuses to seal a payload longer or shorter than the header announces', async () => {
    await expect(seal(payload, { payloadBytes: payload.length - 1 })).rejects.toThrow(/longer than the 2599 bytes announced/);
    await expect(seal(payload, { payloadBytes: payload.length + 1 })).rejects.toThrow(/ended after 2600 of the 2601 bytes/);
  });

  it('keeps plaintext of a damaged chunk back: nothing of it is yielded', async () => {
    const sealed = await seal(payload);
    const bad = Buffer.from(sealed);
    bad[HEADER_BYTES + CHUNK + TAG_BYTES + 10] = bad[HEADER_BYTES + CHUNK + TAG_BYTES + 10]! ^ 0xff;
    const path = join(dir, 'partial-read');
    await writeFile(path, bad);
    const backup = await openBackup(path);
    const got: Buffer[] = [];
    await expect(
      (async () => {
        for await (const p of (await backup.unlock(PASS)).payload()) got.push(p);
      })(),
    ).rejects.toMatchObject({ code: 'MGR_ERR_BACKUP_DAMAGED', message: expect.stringMatching(/chunk 2 of 3/) });
    await backup.close();
    expect(Buffer.concat(got)).toEqual(payload.subarray(0, CHUNK));
    expect(await readFile(path)).toEqual(bad);
  });
});
