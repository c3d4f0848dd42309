/**
 * One client socket: bytes → whole messages (size-limited) → decoded requests → the session, one
 * request at a time and in order, answers written with backpressure. Whatever the peer sends, the
 * worst outcome is this connection closing: a malformed message gets a Notice of Disconnection, a
 * slow or idle peer is dropped, and no error leaves this class. A StartTLS the session accepted is
 * carried out here, since it swaps the socket under the conversation.
 *
 * @example
 * server.on('connection', (socket) => new LdapConnection(socket, deps));
 */
import type { Socket } from 'node:net';
import { type SecureContext, TLSSocket } from 'node:tls';
import { errorMessage } from '../../../../common/errors.js';
import type { ResolvedLdapConfig } from './config.js';
import { DecodeError, type DecodeLimits, decodeRequest } from './decode.js';
import type { LdapEncoder } from './encoder.js';
import { FrameError, MessageFramer } from './framer.js';
import { type LdapRequest, type LdapResponse, Oid, ResultCode } from './protocol.js';
import { failure, type LdapSession, type Outcome } from './session.js';
import type { LdapStats } from './stats.js';

export interface ConnectionDeps {
  readonly config: ResolvedLdapConfig;
  readonly decodeLimits: DecodeLimits;
  readonly encoder: LdapEncoder;
  readonly session: LdapSession;
  readonly stats: LdapStats;
  readonly log?: (message: string) => void;
  /** What StartTLS switches to; the session accepts StartTLS only when the server has one. */
  readonly tls?: SecureContext;
}

/** Past this many unsent bytes we wait for the peer to read before producing more. */
const HIGH_WATER = 256 * 1024;
/** How long a peer gets to read its Notice of Disconnection before the socket is destroyed. */
const LINGER_MS = 1000;

export class LdapConnection {
  private readonly framer: MessageFramer;
  private readonly queue: LdapRequest[] = [];
  private working = false;
  private closed = false;
  private messageTimer: NodeJS.Timeout | undefined;
  private bindTimer: NodeJS.Timeout | undefined;

  private socket: Socket;
  private readonly onData = (chunk: Buffer) => this.receive(chunk);

  constructor(
    socket: Socket,
    private readonly deps: ConnectionDeps,
  ) {
    this.socket = socket;
    this.framer = new MessageFramer(deps.config.maxMessageBytes);
    socket.setNoDelay(true);
    socket.on('close', () => this.close());
    this.listen(socket);
    this.bindTimer = setTimeout(() => this.drop('no bind in time'), deps.config.bindTimeoutMs);
  }

  /** Reads requests from `socket` (the TCP one, then the TLS one after StartTLS). */
  private listen(socket: Socket): void {
    socket.setTimeout(this.deps.config.idleTimeoutMs, () => this.drop('idle'));
    socket.on('data', this.onData);
    socket.on('error', () => this.close());
  }

  /**
   * RFC 4511 §4.14 / RFC 4513 §3, once the session accepted StartTLS: answer success, then the next
   * bytes are the client's TLS handshake. Refused (operationsError) while other requests are
   * pending, since those bytes would be read in the wrong layer.
   */
  private startTls(id: number): void {
    const answer = (code: ResultCode, message?: string) =>
      this.send({ kind: 'extended', id, code, name: Oid.startTls, ...(message ? { message } : {}) });
    if (this.queue.length || this.framer.pending)
      return void answer(ResultCode.operationsError, 'send StartTLS alone, with no request outstanding');
    const clear = this.socket;
    // All in this tick: no 'data' can be read in clear between the answer and the TLS layer taking the socket.
    clear.off('data', this.onData);
    clear.setTimeout(0);
    void answer(ResultCode.success);
    const secure = new TLSSocket(clear, { isServer: true, secureContext: this.deps.tls! });
    secure.once('secure', () => this.deps.stats.tlsStarted++);
    this.socket = secure;
    this.deps.session.secure = true;
    secure.on('close', () => this.close());
    this.listen(secure);
  }

  private receive(chunk: Buffer): void {
    if (this.closed) return;
    let frames: Buffer[];
    try {
      frames = this.framer.push(chunk);
    } catch (err) {
      if (!(err instanceof FrameError)) throw err;
      if (err.reason === 'too-large') this.deps.stats.oversize++;
      else this.deps.stats.malformed++;
      return this.disconnect(err.message);
    }
    this.watchPartial(frames.length > 0);
    for (const frame of frames) {
      this.deps.stats.messages++;
      try {
        this.queue.push(decodeRequest(frame, this.deps.decodeLimits));
      } catch (err) {
        if (err instanceof DecodeError) this.deps.stats.malformed++;
        else this.internal(err);
        return this.disconnect(err instanceof DecodeError ? err.message : 'internal error');
      }
    }
    if (this.queue.length >= this.deps.config.maxQueuedPerConnection) this.socket.pause();
    void this.pump();
  }

  /** A message that has begun must end within messageTimeoutMs; a new one gets a fresh clock. */
  private watchPartial(completedOne: boolean): void {
    if (this.framer.pending === 0 || completedOne) {
      clearTimeout(this.messageTimer);
      this.messageTimer = undefined;
    }
    if (this.framer.pending > 0 && !this.messageTimer) {
      this.messageTimer = setTimeout(() => this.drop('message not completed in time'), this.deps.config.messageTimeoutMs);
    }
  }

  private async pump(): Promise<void> {
    if (this.working) return;
    this.working = true;
    try {
      while (!this.closed && this.queue.length) {
        const req = this.queue.shift()!;
        if (this.socket.isPaused() && this.queue.length < this.deps.config.maxQueuedPerConnection) this.socket.resume();
        let outcome: Outcome;
        try {
          outcome = await this.deps.session.handle(req, (r) => this.send(r));
        } catch (err) {
          this.internal(err);
          const answer = failure(req, ResultCode.operationsError, 'internal error');
          if (answer) await this.send(answer);
        }
        if (this.deps.session.authenticated && this.bindTimer) {
          clearTimeout(this.bindTimer);
          this.bindTimer = undefined;
        }
        if (outcome === 'close') {
          this.socket.end();
          setTimeout(() => this.socket.destroy(), LINGER_MS).unref();
          this.close();
        }
        // Straight after the session's answer, before any I/O callback: see startTls.
        if (outcome === 'start-tls') this.startTls(req.id);
      }
    } catch (err) {
      this.internal(err);
      this.socket.destroy();
    } finally {
      this.working = false;
    }
  }

  private async send(response: LdapResponse): Promise<void> {
    if (this.closed || this.socket.destroyed) return;
    let bytes: Buffer;
    try {
      bytes = this.deps.encoder.encode(response);
    } catch (err) {
      // An entry the encoder cannot write is skipped and counted, never fatal.
      this.internal(err);
      if (response.kind === 'entry') return;
      const plain = { id: response.id, code: ResultCode.other, message: 'internal error' };
      bytes = this.deps.encoder.encode(
        response.kind === 'result' ? { kind: 'result', op: response.op, ...plain } : { kind: 'extended', ...plain },
      );
    }
    this.socket.write(bytes);
    if (this.socket.writableLength > HIGH_WATER) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.socket.off('drain', done);
          this.socket.off('close', done);
          resolve();
        };
        this.socket.on('drain', done);
        this.socket.on('close', done);
      });
    }
  }

  /** RFC 4511 §4.4.1: tell the peer why, then close. */
  private disconnect(reason: string): void {
    if (this.closed) return;
    try {
      this.socket.write(
        this.deps.encoder.encode({
          kind: 'extended',
          id: 0,
          code: ResultCode.protocolError,
          name: Oid.noticeOfDisconnection,
          message: reason.slice(0, 200),
        }),
      );
    } catch (err) {
      this.internal(err);
    }
    this.socket.end();
    setTimeout(() => this.socket.destroy(), LINGER_MS).unref();
    this.close();
  }

  private drop(why: string): void {
    if (this.closed) return;
    this.deps.stats.timeouts++;
    this.deps.log?.(`ldap: closing ${this.socket.remoteAddress ?? '?'}: ${why}`);
    this.socket.destroy();
    this.close();
  }

  private internal(err: unknown): void {
    this.deps.stats.internalErrors++;
    this.deps.log?.(`ldap: ${errorMessage(err)}`);
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    clearTimeout(this.messageTimer);
    clearTimeout(this.bindTimer);
    this.socket.setTimeout(0);
    this.socket.removeAllListeners('data');
    // Keep an error listener: a late ECONNRESET must not become an uncaught exception.
    this.socket.on('error', () => undefined);
  }
}
