/**
 * The manager's DNS server: UDP and TCP on one address and port (`--dns-listen`), authoritative
 * for `storm.local`, the instance zone and the appliance networks' reverse names, forwarding the
 * rest for appliance clients when an upstream is set. See query-handler.ts for the answers and
 * docs/network-services.md for the zone layout and limits.
 *
 * @example
 * const server = new DnsServer({ listen: '10.77.0.1:53', networks: ['10.77.0.0/24'] }, { zone });
 * await server.start();
 * server.address; // { host: '10.77.0.1', port: 53 }
 * server.stats(); // { queries, rcodes: { NOERROR, NXDOMAIN, … }, dropped, truncated, … }
 * await server.close();
 */
import { createSocket, type Socket } from 'node:dgram';
import { createServer, isIPv6, type Server, type Socket as TcpSocket } from 'node:net';
import { MgrErr } from '../../errors.js';
import { literalLookup } from '../dhcp/literal-lookup.js';
import { ConnectionLimit } from '../connection-limit.js';
import { Authority } from './authority.js';
import { type DnsServerConfig, type ResolvedDnsConfig, resolveDnsConfig } from './config.js';
import { Forwarder, type ForwarderStats } from './forwarder.js';
import { type QueryCounters, QueryHandler } from './query-handler.js';
import type { ZoneSource } from './zone-source.js';
import type { NetworkService } from '../network-service.js';

export interface DnsServerDeps {
  readonly zone: ZoneSource;
  readonly now?: () => number;
  readonly log?: (message: string) => void;
}

export interface DnsStats extends QueryCounters {
  udp: number;
  tcp: number;
  tcpConnections: number;
  /** TCP connections refused: over `maxTcpConnections`, or over `maxTcpPerSource` from one address. */
  tcpRejected: number;
  /** TCP connections dropped because the peer left too many answers unread. */
  tcpUnread: number;
  /** Dropped because too many queries were already waiting on the zone or the upstream. */
  overloaded: number;
  upstream: ForwarderStats | undefined;
}

/** Queries waiting on the zone source or the upstream at once; more are dropped (clients retry). */
const MAX_PENDING = 4096;
/** Queries one TCP connection may have in work before we stop reading from it. */
const MAX_PIPELINE = 32;
/** Unsent answer bytes on one TCP connection past which we read no more of its queries. */
const TCP_HIGH_WATER = 64 * 1024;
/** Unsent bytes past which a TCP peer that does not read is dropped (answers in work can still land). */
const TCP_MAX_UNSENT = 1024 * 1024;
/** Queries taken from one TCP connection per turn of the event loop. */
const TCP_BATCH = 64;

export class DnsServer implements NetworkService {
  readonly name = 'dns';
  readonly config: ResolvedDnsConfig;
  private udp: Socket | undefined;
  private tcp: Server | undefined;
  private forwarder: Forwarder | undefined;
  private handler: QueryHandler | undefined;
  private unsubscribe: (() => void) | undefined;
  private readonly connections = new Set<TcpSocket>();
  private readonly tcpLimit: ConnectionLimit;
  private pending = 0;
  private readonly transport = { udp: 0, tcp: 0, tcpConnections: 0, tcpRejected: 0, tcpUnread: 0, overloaded: 0 };

  constructor(
    config: DnsServerConfig,
    private readonly deps: DnsServerDeps,
  ) {
    this.config = resolveDnsConfig(config);
    this.tcpLimit = new ConnectionLimit({ total: this.config.maxTcpConnections, perSource: this.config.maxTcpPerSource });
  }

  async start(): Promise<void> {
    if (this.handler) throw MgrErr.MGR_ERR_INTERNAL('dns server already started');
    const c = this.config;
    if (c.upstream) {
      this.forwarder = new Forwarder(c.upstream, c.upstreamTimeoutMs, c.maxOutstanding);
      await this.forwarder.start();
    }
    const authority = new Authority(c, this.deps.zone);
    const handler = new QueryHandler(c, authority, this.forwarder, this.deps.now ?? Date.now, this.deps.log);
    this.unsubscribe = this.deps.zone.onChange?.(() => {
      authority.changed();
      handler.invalidate();
    });
    this.handler = handler;
    try {
      this.udp = await this.bindUdp(c.host, c.port);
      this.tcp = await this.listenTcp(c.host, this.udp.address().port);
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  /** Where it listens (the real port when `listen` said 0). */
  get address(): { host: string; port: number } {
    return { host: this.config.host, port: this.udp?.address().port ?? this.config.port };
  }

  listensOn(): string {
    return `udp+tcp ${this.address.host}:${this.address.port}`;
  }

  stats(): DnsStats {
    const h = this.handler?.counters;
    const empty: QueryCounters = {
      queries: 0,
      dropped: 0,
      truncated: 0,
      cacheHits: 0,
      cacheMisses: 0,
      internalErrors: 0,
      rcodes: { NOERROR: 0, FORMERR: 0, SERVFAIL: 0, NXDOMAIN: 0, NOTIMP: 0, REFUSED: 0, BADVERS: 0 },
    };
    const q = h ?? empty;
    return { ...q, rcodes: { ...q.rcodes }, ...this.transport, upstream: this.forwarder ? { ...this.forwarder.counters } : undefined };
  }

  async close(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    for (const s of this.connections) s.destroy();
    this.connections.clear();
    const udp = this.udp;
    const tcp = this.tcp;
    this.udp = undefined;
    this.tcp = undefined;
    if (udp) await new Promise<void>((r) => udp.close(() => r()));
    if (tcp) await new Promise<void>((r) => tcp.close(() => r()));
    await this.forwarder?.close();
    this.forwarder = undefined;
    this.handler = undefined;
  }

  /** Runs one query; calls `send` with the answer unless it is dropped. Never throws. */
  private run(raw: Buffer, address: string, tcp: boolean, send: (reply: Buffer) => void, done?: () => void): void {
    const handler = this.handler;
    if (!handler) return done?.();
    if (this.pending >= MAX_PENDING) {
      this.transport.overloaded++;
      return done?.();
    }
    let out: ReturnType<QueryHandler['respond']>;
    try {
      out = handler.respond(raw, { address, tcp });
    } catch (err) {
      handler.counters.internalErrors++;
      this.deps.log?.(`dns: ${err instanceof Error ? err.message : String(err)}`);
      return done?.();
    }
    if (!(out instanceof Promise)) {
      if (out) send(out);
      return done?.();
    }
    this.pending++;
    out
      .then(
        (reply) => reply && send(reply),
        () => handler.counters.internalErrors++,
      )
      .finally(() => {
        this.pending--;
        done?.();
      });
  }

  private async bindUdp(host: string, port: number): Promise<Socket> {
    // Bursts (a boot storm, a benchmark) queue in the kernel instead of being dropped; capped by net.core.rmem_max.
    const socket = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4', recvBufferSize: 4 * 1024 * 1024, lookup: literalLookup });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ port, address: host, exclusive: true }, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    socket.on('error', (err) => this.deps.log?.(`dns udp: ${err.message}`));
    socket.on('message', (raw, rinfo) => {
      this.transport.udp++;
      this.run(raw, rinfo.address, false, (reply) => socket.send(reply, rinfo.port, rinfo.address));
    });
    return socket;
  }

  private async listenTcp(host: string, port: number): Promise<Server> {
    const server = createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port, exclusive: true }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.deps.log?.(`dns tcp: ${err.message}`));
    return server;
  }

  /**
   * RFC 7766: two-byte length frames, several queries per connection, answers in any order. Reading
   * stops while the peer leaves answers unread or too many are in work, and a batch at a time is
   * taken per turn of the event loop, so a client that floods and never reads holds a bounded
   * amount of memory and never stalls the other clients.
   */
  private accept(socket: TcpSocket): void {
    socket.on('error', () => socket.destroy());
    if (!this.tcpLimit.admit(socket)) {
      this.transport.tcpRejected++;
      socket.destroy();
      return;
    }
    this.transport.tcpConnections++;
    this.connections.add(socket);
    socket.setTimeout(this.config.tcpIdleMs, () => socket.destroy());
    socket.on('close', () => this.connections.delete(socket));
    const address = socket.remoteAddress ?? '';
    let buffered: Buffer = Buffer.alloc(0);
    let inWork = 0;
    let pumping = false;
    let later: NodeJS.Immediate | undefined;
    const blocked = () => inWork >= MAX_PIPELINE || socket.writableLength >= TCP_HIGH_WATER;
    const send = (reply: Buffer) => {
      if (socket.destroyed) return;
      const frame = Buffer.allocUnsafe(2 + reply.length);
      frame.writeUInt16BE(reply.length, 0);
      reply.copy(frame, 2);
      socket.write(frame);
      // Answers still in work when the peer stopped reading: past this, the connection goes.
      if (socket.writableLength > TCP_MAX_UNSENT) {
        this.transport.tcpUnread++;
        socket.destroy();
      }
    };
    const pump = () => {
      later = undefined;
      pumping = true;
      let taken = 0;
      while (!socket.destroyed && buffered.length >= 2 && !blocked() && taken < TCP_BATCH) {
        const len = buffered.readUInt16BE(0);
        if (len === 0) {
          socket.destroy();
          break;
        }
        if (buffered.length < 2 + len) break;
        const message = Buffer.from(buffered.subarray(2, 2 + len));
        buffered = buffered.subarray(2 + len);
        this.transport.tcp++;
        inWork++;
        taken++;
        this.run(message, address, true, send, done);
      }
      pumping = false;
      if (socket.destroyed) return;
      const whole = buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0);
      if (blocked() || whole) socket.pause();
      else socket.resume();
      // A full batch taken with more waiting: the rest on the next turn, after other clients.
      if (!blocked() && whole && !later) later = setImmediate(pump);
    };
    const done = () => {
      inWork--;
      if (!pumping && !later) pump();
    };
    socket.on('drain', () => !pumping && !later && pump());
    socket.on('close', () => later && clearImmediate(later));
    socket.on('data', (chunk: Buffer) => {
      buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
      if (!later) pump();
    });
  }
}
