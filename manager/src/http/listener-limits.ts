/**
 * Bounds on the manager's HTTPS listeners (the API and the guests' listener): how long a client may
 * take over its TLS handshake, its headers and its whole request, how long a connection may sit idle
 * with no request in work, and how many connections it may hold, in all and from one address. A
 * request in work is never cut for being slow to answer (a launch takes minutes); a client that
 * stops reading its answer is, and so is one that stops sending its body.
 *
 * @example
 * const app = Fastify({ https: { ...tls, ...httpsLimitOptions(GUEST_LIMITS) }, ...fastifyLimitOptions(GUEST_LIMITS) });
 * boundListener(app.server, GUEST_LIMITS);
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import { ConnectionLimit } from '../protocols/connection-limit.js';

export interface ListenerLimits {
  /** The TLS handshake must finish within this long, ms. */
  readonly handshakeTimeoutMs: number;
  /** A request's headers must arrive whole within this long, ms. */
  readonly headersTimeoutMs: number;
  /** A request, body included, must arrive whole within this long, ms; 0: no deadline, as long as its body keeps arriving. */
  readonly requestTimeoutMs: number;
  /** A connection with no traffic this long is closed when no request is in work, or when its request's body stopped arriving, ms. */
  readonly idleTimeoutMs: number;
  /** Open connections at most. */
  readonly maxConnections: number;
  /** Open connections from one address at most. */
  readonly maxPerSource: number;
}

/**
 * The API and console: administrators, hosts and the local stormd, several from one address. No
 * deadline on a whole request: an image import or a restore uploads gigabytes (a 2 GiB image got 408
 * at the 120 s there was, on a loaded machine); one whose body stops for the idle timeout is cut.
 */
export const API_LIMITS: ListenerLimits = Object.freeze({
  handshakeTimeoutMs: 10_000,
  headersTimeoutMs: 30_000,
  requestTimeoutMs: 0,
  idleTimeoutMs: 60_000,
  maxConnections: 4096,
  maxPerSource: 256,
});

/** The guests' listener: a booting guest makes a few small calls; a thousand boot at once. */
export const GUEST_LIMITS: ListenerLimits = Object.freeze({
  handshakeTimeoutMs: 10_000,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  idleTimeoutMs: 30_000,
  maxConnections: 4096,
  maxPerSource: 16,
});

/** What `https.createServer` takes: the handshake deadline, and how often header and request deadlines are checked. */
export function httpsLimitOptions(l: ListenerLimits): { handshakeTimeout: number; connectionsCheckingInterval: number } {
  return { handshakeTimeout: l.handshakeTimeoutMs, connectionsCheckingInterval: Math.min(1000, l.headersTimeoutMs) };
}

/** What fastify takes: it sets these on its server (its own defaults leave a request unbounded). */
export function fastifyLimitOptions(l: ListenerLimits): { connectionTimeout: number; keepAliveTimeout: number; requestTimeout: number } {
  return { connectionTimeout: l.idleTimeoutMs, keepAliveTimeout: l.idleTimeoutMs, requestTimeout: l.requestTimeoutMs };
}

/** Counts connections and decides what an idle socket's timeout means; call before listening. */
export function boundListener(server: Server, l: ListenerLimits): ConnectionLimit {
  const limit = new ConnectionLimit({ total: l.maxConnections, perSource: l.maxPerSource });
  server.headersTimeout = l.headersTimeoutMs;
  server.requestTimeout = l.requestTimeoutMs;
  // Raw TCP, before any TLS: an address over its share costs no handshake.
  server.on('connection', (socket: Socket) => {
    if (!limit.admit(socket)) socket.destroy();
  });
  const inWork = new WeakMap<Socket, number>();
  const latest = new WeakMap<Socket, IncomingMessage>();
  server.on('request', (req, res) => {
    const socket = req.socket;
    inWork.set(socket, (inWork.get(socket) ?? 0) + 1);
    latest.set(socket, req);
    res.once('close', () => inWork.set(socket, (inWork.get(socket) ?? 1) - 1));
  });
  // With a listener here Node no longer closes timed-out sockets itself: close the idle, the client
  // that stopped reading its answer, and the one whose body stopped arriving.
  server.on('timeout', (socket: Socket) => {
    const bodyStalled = latest.get(socket)?.complete === false;
    if (!inWork.get(socket) || socket.writableLength > 0 || bodyStalled) socket.destroy();
  });
  return limit;
}
