/**
 * Forwards queries for names that are not ours to one upstream resolver over UDP. Each forwarded
 * query gets a fresh random id; a reply is accepted only from the upstream's exact address and
 * port, with an id we have outstanding and the same question (case-insensitive). At most
 * `maxOutstanding` queries wait at once and each waits at most `timeoutMs`.
 *
 * @example
 * const fwd = new Forwarder({ host: '10.0.0.53', port: 53 }, 2000, 1024);
 * await fwd.start();
 * const reply = await fwd.forward(rawQuery, { name: 'example.org', type: 1, klass: 1 }); // undefined on timeout or overload
 */
import { randomInt } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { type WireQuestion, readQuestion } from './wire.js';

interface Waiting {
  readonly question: WireQuestion;
  readonly resolve: (reply: Buffer | undefined) => void;
  readonly timer: NodeJS.Timeout;
}

export interface ForwarderStats {
  forwarded: number;
  answered: number;
  timeouts: number;
  overloaded: number;
  /** Replies from the wrong address, with an unknown id or a different question. */
  rejected: number;
}

export class Forwarder {
  private socket: Socket | undefined;
  private readonly waiting = new Map<number, Waiting>();
  readonly counters: ForwarderStats = { forwarded: 0, answered: 0, timeouts: 0, overloaded: 0, rejected: 0 };

  constructor(
    private readonly upstream: { readonly host: string; readonly port: number },
    private readonly timeoutMs: number,
    private readonly maxOutstanding: number,
  ) {}

  async start(): Promise<void> {
    const socket = createSocket(isIPv6(this.upstream.host) ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    socket.on('message', (buf, rinfo) => this.onReply(buf, rinfo));
    socket.on('error', () => undefined);
    this.socket = socket;
  }

  /** Sends `query` upstream; resolves with the upstream's reply (id restored), or undefined. */
  forward(query: Buffer, question: WireQuestion): Promise<Buffer | undefined> {
    const socket = this.socket;
    if (!socket || this.waiting.size >= this.maxOutstanding) {
      this.counters.overloaded++;
      return Promise.resolve(undefined);
    }
    let id = randomInt(0, 65536);
    while (this.waiting.has(id)) id = (id + 1) & 0xffff;
    const clientId = query.readUInt16BE(0);
    const out = Buffer.from(query);
    out.writeUInt16BE(id, 0);
    this.counters.forwarded++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        this.counters.timeouts++;
        resolve(undefined);
      }, this.timeoutMs);
      this.waiting.set(id, {
        question,
        timer,
        resolve: (reply) => {
          if (reply) reply.writeUInt16BE(clientId, 0);
          resolve(reply);
        },
      });
      socket.send(out, this.upstream.port, this.upstream.host);
    });
  }

  private onReply(buf: Buffer, rinfo: RemoteInfo): void {
    if (rinfo.address !== this.upstream.host || rinfo.port !== this.upstream.port || buf.length < 12) {
      this.counters.rejected++;
      return;
    }
    const w = this.waiting.get(buf.readUInt16BE(0));
    const q = w && readQuestion(buf);
    if (!w || !q || q.type !== w.question.type || q.klass !== w.question.klass || q.name !== w.question.name) {
      this.counters.rejected++;
      return;
    }
    this.waiting.delete(buf.readUInt16BE(0));
    clearTimeout(w.timer);
    this.counters.answered++;
    w.resolve(Buffer.from(buf));
  }

  async close(): Promise<void> {
    for (const [id, w] of this.waiting) {
      clearTimeout(w.timer);
      w.resolve(undefined);
      this.waiting.delete(id);
    }
    const socket = this.socket;
    this.socket = undefined;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
}
