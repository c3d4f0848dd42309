/**
 * Test support: a stormd-shaped TLS server that records what happened to each connection, and a
 * client that says hello and records what it saw. Real sockets on 127.0.0.1, port 0.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { connect, createServer, type ConnectionOptions, type Server, type TlsOptions } from 'node:tls';
import { checkPeer, type PeerExpectation } from '../check-peer.js';
import { onTlsRefusal, type TlsRefusal } from '../tls-refusal.js';
import { errorMessage } from '../../common/errors.js';

export type ServerEvent =
  /** OpenSSL refused the handshake; the handler below never saw the socket. */
  | { kind: 'refused'; reason: string }
  /** The 'secureConnection' handler ran. */
  | { kind: 'secure-connection' }
  | { kind: 'peer-refused'; message: string }
  | { kind: 'accepted'; commonName: string; sessionReused: boolean }
  | { kind: 'data'; text: string }
  | { kind: 'closed' };

export interface ServerProbe {
  readonly port: number;
  readonly server: Server;
  readonly events: ServerEvent[];
  /** What `tlsRefusal` made of each refused handshake: the line stormd would log. */
  readonly refusals: TlsRefusal[];
  /** Resolves once `count` connections have ended (refused or closed). */
  connectionsDone(count: number): Promise<void>;
  close(): Promise<void>;
}

/** A server that, like stormd, runs `checkPeer` first and only then reads the request. */
export async function startProbeServer(options: TlsOptions, expected: PeerExpectation = { role: 'manager' }): Promise<ServerProbe> {
  const events: ServerEvent[] = [];
  const refusals: TlsRefusal[] = [];
  let done = 0;
  const waiters: { count: number; resolve: () => void }[] = [];
  const finished = (): void => {
    done += 1;
    for (const w of waiters.filter((w) => done >= w.count)) w.resolve();
  };
  const server = createServer(options);
  onTlsRefusal(server, (refusal) => {
    refusals.push(refusal);
    events.push({ kind: 'refused', reason: refusal.reason });
    finished();
  });
  server.on('secureConnection', (socket) => {
    events.push({ kind: 'secure-connection' });
    socket.on('close', () => {
      events.push({ kind: 'closed' });
      finished();
    });
    socket.on('error', () => undefined); // a peer that resets is recorded by 'close'
    try {
      const peer = checkPeer(socket, expected);
      events.push({ kind: 'accepted', commonName: peer.commonName, sessionReused: socket.isSessionReused() });
    } catch (err) {
      events.push({ kind: 'peer-refused', message: errorMessage(err) });
      socket.destroy();
      return;
    }
    socket.on('data', (chunk: Buffer) => {
      events.push({ kind: 'data', text: chunk.toString() });
      socket.end('pong');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    server,
    events,
    refusals,
    connectionsDone: (count) => (done >= count ? Promise.resolve() : new Promise((resolve) => waiters.push({ count, resolve }))),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export interface ClientOutcome {
  /** The client finished its side of the handshake (in TLS 1.3 before the server has judged it). */
  readonly secureConnect: boolean;
  readonly reply: string;
  readonly errorCode: string | undefined;
  readonly session: Buffer | undefined;
}

/** Connects, writes "ping" once the handshake is done, and collects the reply until the socket closes. */
export function probeClient(port: number, options: ConnectionOptions): Promise<ClientOutcome> {
  return new Promise((resolve) => {
    let secureConnect = false;
    let reply = '';
    let errorCode: string | undefined;
    let session: Buffer | undefined;
    const socket = connect({ host: '127.0.0.1', port, timeout: 10_000, ...options });
    socket.on('session', (s: Buffer) => (session = s));
    socket.on('secureConnect', () => {
      secureConnect = true;
      socket.write('ping');
    });
    socket.on('data', (chunk: Buffer) => (reply += chunk.toString()));
    socket.on('timeout', () => socket.destroy(new Error('probe timed out')));
    socket.on('error', (err: NodeJS.ErrnoException) => (errorCode ??= err.code ?? err.message));
    socket.on('close', () => resolve({ secureConnect, reply, errorCode, session }));
  });
}
