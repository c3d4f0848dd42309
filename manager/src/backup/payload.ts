/**
 * The payload's framing: the manifest, then each file's bytes in the manifest's order. Reading
 * checks every file's size and sha256 and that nothing follows the last file.
 *
 * @example
 * const manifest = await readPayload(unlocked.payload(), header.payloadBytes, async (file, bytes) => {
 *   for await (const piece of bytes) await fh.write(piece);
 * });
 */
import { createHash } from 'node:crypto';
import { BackupErr } from './errors.js';
import { type Manifest, type ManifestFile, MAX_MANIFEST_BYTES, parseManifest, payloadBytes } from './manifest.js';

/** Pulls exact byte counts out of a stream of pieces of any size. */
class ByteReader {
  private held: Buffer = Buffer.alloc(0);
  private done = false;

  constructor(private readonly it: AsyncIterator<Buffer>) {}

  private async fill(): Promise<boolean> {
    if (this.done) return false;
    const next = await this.it.next();
    if (next.done) {
      this.done = true;
      return false;
    }
    this.held = this.held.length ? Buffer.concat([this.held, next.value]) : next.value;
    return true;
  }

  async exactly(n: number, what: string): Promise<Buffer> {
    while (this.held.length < n) if (!(await this.fill())) throw BackupErr.MGR_ERR_BACKUP_DAMAGED(`the payload ends inside ${what}`);
    const out = this.held.subarray(0, n);
    this.held = this.held.subarray(n);
    return out;
  }

  /** Yields pieces adding up to exactly `n` bytes. */
  async *take(n: number, what: string): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (!this.held.length && !(await this.fill())) throw BackupErr.MGR_ERR_BACKUP_DAMAGED(`the payload ends inside ${what}`);
      const piece = this.held.subarray(0, Math.min(left, this.held.length));
      this.held = this.held.subarray(piece.length);
      left -= piece.length;
      yield piece;
    }
  }

  async atEnd(): Promise<boolean> {
    while (!this.held.length) if (!(await this.fill())) return true;
    return false;
  }
}

export type FileSink = (file: ManifestFile, bytes: AsyncIterable<Buffer>) => Promise<void>;

/** Reads the manifest and hands each file's bytes to `sink`; resolves once all are verified. */
export async function readPayload(plain: AsyncIterable<Buffer>, expectedBytes: number, sink: FileSink): Promise<Manifest> {
  const reader = new ByteReader(plain[Symbol.asyncIterator]());
  const length = (await reader.exactly(4, 'the manifest length')).readUInt32BE(0);
  if (length > MAX_MANIFEST_BYTES) throw BackupErr.MGR_ERR_BACKUP_FORMAT(`a manifest of ${length} bytes`);
  const manifest = parseManifest(await reader.exactly(length, 'the manifest'));
  if (payloadBytes(manifest) !== expectedBytes)
    throw BackupErr.MGR_ERR_BACKUP_FORMAT('the manifest does not account for the payload length');
  for (const file of manifest.files) {
    const hash = createHash('sha256');
    let seen = 0;
    const bytes = (async function* () {
      for await (const piece of reader.take(file.size, file.path)) {
        hash.update(piece);
        seen += piece.length;
        yield piece;
      }
    })();
    await sink(file, bytes);
    // A sink that stopped early still leaves the reader at the next file.
    for await (const _ of bytes) void _;
    if (seen !== file.size) throw BackupErr.MGR_ERR_BACKUP_DAMAGED(`${file.path}: ${seen} of ${file.size} bytes`);
    if (hash.digest('hex') !== file.sha256) throw BackupErr.MGR_ERR_BACKUP_DAMAGED(`${file.path} does not match its sha256`);
  }
  if (!(await reader.atEnd())) throw BackupErr.MGR_ERR_BACKUP_DAMAGED('bytes after the last file');
  return manifest;
}
