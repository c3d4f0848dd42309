/**
 * SHA-256 on a worker thread, so hashing a layer overlaps with receiving and writing it instead of
 * taking turns with them on the main thread. Chunks are copied and transferred; `update` waits when
 * the worker falls more than `maxAheadBytes` behind, so memory stays bounded.
 *
 * @example
 * const hasher = new StreamHasher();
 * await hasher.updateFile('/cache/.partial/x.part'); // resume: the bytes already on disk
 * await hasher.update(chunk);
 * const hex = await hasher.digest();
 */
import { Worker } from 'node:worker_threads';

// Plain JavaScript evaluated in the worker: runs the same from sources (vitest, tsx) and from dist/.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { createReadStream } = require('node:fs');
const hash = createHash('sha256');
parentPort.on('message', async (m) => {
  try {
    if (m.kind === 'chunk') { hash.update(new Uint8Array(m.buffer)); parentPort.postMessage({ kind: 'ack', bytes: m.buffer.byteLength }); }
    else if (m.kind === 'file') {
      let bytes = 0;
      for await (const c of createReadStream(m.path, { highWaterMark: 1 << 20 })) { hash.update(c); bytes += c.length; }
      parentPort.postMessage({ kind: 'file', bytes });
    } else if (m.kind === 'digest') parentPort.postMessage({ kind: 'digest', hex: hash.digest('hex') });
  } catch (err) { parentPort.postMessage({ kind: 'error', message: String(err && err.message || err) }); }
});
`;

type WorkerReply =
  | { kind: 'ack'; bytes: number }
  | { kind: 'file'; bytes: number }
  | { kind: 'digest'; hex: string }
  | { kind: 'error'; message: string };

export class StreamHasher {
  private readonly worker = new Worker(WORKER_SOURCE, { eval: true });
  private ahead = 0;
  private failure: Error | undefined;
  private drained: (() => void)[] = [];
  private pending: ((r: WorkerReply) => void) | undefined;

  constructor(private readonly maxAheadBytes = 64 * 1024 * 1024) {
    this.worker.on('message', (r: WorkerReply) => {
      if (r.kind === 'ack') {
        this.ahead -= r.bytes;
        if (this.ahead <= this.maxAheadBytes / 2) for (const fn of this.drained.splice(0)) fn();
        return;
      }
      if (r.kind === 'error') this.failure = new Error(`hash worker: ${r.message}`);
      const p = this.pending;
      this.pending = undefined;
      p?.(r);
    });
    this.worker.on('error', (err) => {
      this.failure = err;
      for (const fn of this.drained.splice(0)) fn();
      this.pending?.({ kind: 'error', message: err.message });
    });
  }

  /** Queues a copy of `chunk`; resolves at once unless the worker is too far behind. */
  async update(chunk: Uint8Array): Promise<void> {
    if (this.failure) throw this.failure;
    const copy = new Uint8Array(chunk);
    this.ahead += copy.byteLength;
    this.worker.postMessage({ kind: 'chunk', buffer: copy.buffer }, [copy.buffer]);
    if (this.ahead > this.maxAheadBytes) await new Promise<void>((r) => this.drained.push(r));
    if (this.failure) throw this.failure;
  }

  /** Hashes a file's bytes (the part of a download already on disk); resolves with their count. */
  async updateFile(path: string): Promise<number> {
    const r = await this.request({ kind: 'file', path });
    if (r.kind !== 'file') throw this.failure ?? new Error('hash worker: unexpected reply');
    return r.bytes;
  }

  /** The hex digest of everything queued; the worker ends. */
  async digest(): Promise<string> {
    try {
      const r = await this.request({ kind: 'digest' });
      if (r.kind !== 'digest') throw this.failure ?? new Error('hash worker: unexpected reply');
      return r.hex;
    } finally {
      await this.close();
    }
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }

  private request(message: object): Promise<WorkerReply> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve) => {
      this.pending = resolve;
      this.worker.postMessage(message);
    });
  }
}
