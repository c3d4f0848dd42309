/**
 * Cuts a TCP byte stream into whole LDAPMessages before any parser sees them: the header must be
 * a SEQUENCE with a definite length, and a message larger than `maxBytes` is refused as soon as
 * its header says so, so a peer can never make us buffer more than that.
 *
 * @example
 * const framer = new MessageFramer(64 * 1024);
 * socket.on('data', (chunk) => { for (const frame of framer.push(chunk)) handle(frame); });
 */
import { BerError, readHeader } from './ber.js';

export class FrameError extends Error {
  override readonly name = 'FrameError';
  constructor(
    message: string,
    readonly reason: 'malformed' | 'too-large',
  ) {
    super(message);
  }
}

/** An LDAPMessage header is at most 6 bytes (tag, 0x84, four length bytes). */
const MAX_HEADER = 6;

export class MessageFramer {
  private chunks: Buffer[] = [];
  private size = 0;
  /** Bytes needed before the next parse can make progress; chunks are joined only then. */
  private need = 1;

  constructor(private readonly maxBytes: number) {}

  /** Bytes held for a message not yet complete. */
  get pending(): number {
    return this.size;
  }

  /** Whole messages completed by `chunk`; throws FrameError for a bad header or an oversize message. */
  push(chunk: Buffer): Buffer[] {
    if (chunk.length === 0) return [];
    this.chunks.push(chunk);
    this.size += chunk.length;
    if (this.size < this.need) return [];
    const buf = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.size);
    const frames: Buffer[] = [];
    let offset = 0;
    this.need = 1;
    while (offset < buf.length) {
      const total = this.frameLength(buf, offset);
      if (total === undefined) {
        this.need = Math.min(MAX_HEADER, buf.length - offset + 1);
        break;
      }
      if (buf.length - offset < total) {
        this.need = total;
        break;
      }
      // A copy, so a small message does not pin a large receive buffer.
      frames.push(Buffer.from(buf.subarray(offset, offset + total)));
      offset += total;
    }
    const rest = buf.subarray(offset);
    this.chunks = rest.length ? [Buffer.from(rest)] : [];
    this.size = rest.length;
    return frames;
  }

  private frameLength(buf: Buffer, offset: number): number | undefined {
    let header;
    try {
      header = readHeader(buf, offset);
    } catch (err) {
      throw new FrameError(err instanceof BerError ? err.message : 'unreadable header', 'malformed');
    }
    if (!header) return undefined;
    if (header.tag !== 0x30) throw new FrameError(`not an LDAPMessage (tag 0x${header.tag.toString(16)})`, 'malformed');
    const total = header.headerLength + header.length;
    if (total > this.maxBytes) throw new FrameError(`message of ${total} bytes exceeds ${this.maxBytes}`, 'too-large');
    return total;
  }
}
