/**
 * The manager's DHCP server: one UDP socket on port 67, decoded with our own codec, answered by
 * the RFC 2131 state machine in responder.ts. A malformed packet is dropped and counted; the
 * number of packets in work at once is bounded; nothing a client sends can throw out of here.
 *
 * Node's dgram cannot bind to a device, so the socket listens on `bindAddress` (all addresses by
 * default) and broadcast replies go to the subnet's directed broadcast address, which the kernel
 * routes out of the interface that carries the subnet (docs/network-services.md).
 *
 * @example
 * const server = new DhcpServer(config, { reservations, leases: new SqliteLeaseStore(db) });
 * await server.start();
 * server.stats(); // { received: 0, malformed: 0, offers: 0, acks: 0, … }
 * await server.close();
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { networkInterfaces } from 'node:os';
import { MgrErr } from '../../errors.js';
import { decodeDhcp, encodeDhcp } from './codec.js';
import { literalLookup } from './literal-lookup.js';
import { type DhcpServerConfig, type ResolvedDhcpConfig, resolveDhcpConfig } from './config.js';
import { LeaseBook } from './lease-book.js';
import { DhcpResponder, type SkipReason } from './responder.js';
import type { LeaseStore, ReservationSource } from './sources.js';
import type { NetworkService } from '../network-service.js';

export interface DhcpServerDeps {
  readonly reservations: ReservationSource;
  readonly leases: LeaseStore;
  /** Clock in ms; tests may pass their own. */
  readonly now?: () => number;
  /** Where unexpected failures are reported; packets never are. */
  readonly log?: (message: string) => void;
}

export interface DhcpStats {
  received: number;
  malformed: number;
  /** Dropped because `maxInFlight` packets were already being handled. */
  overloaded: number;
  offers: number;
  acks: number;
  naks: number;
  sendErrors: number;
  internalErrors: number;
  skipped: Record<SkipReason, number>;
  leases: number;
  offersHeld: number;
  declinedHeld: number;
}

/** Bytes of socket receive buffer asked for; the kernel caps it at net.core.rmem_max. */
const RECEIVE_BUFFER = 4 * 1024 * 1024;

const SKIP_REASONS: readonly SkipReason[] = [
  'not-a-request',
  'no-message-type',
  'unsupported-type',
  'unknown-client',
  'other-server',
  'no-record',
  'pool-exhausted',
  'declined',
  'released',
  'store-failed',
  'bad-request',
  'off-subnet',
];

export class DhcpServer implements NetworkService {
  readonly name = 'dhcp';
  readonly config: ResolvedDhcpConfig;
  private socket: Socket | undefined;
  private responder: DhcpResponder | undefined;
  private book: LeaseBook;
  private inFlight = 0;
  private readonly counters = {
    received: 0,
    malformed: 0,
    overloaded: 0,
    offers: 0,
    acks: 0,
    naks: 0,
    sendErrors: 0,
    internalErrors: 0,
    skipped: Object.fromEntries(SKIP_REASONS.map((r) => [r, 0])) as Record<SkipReason, number>,
  };
  private readonly now: () => number;

  constructor(
    config: DhcpServerConfig,
    private readonly deps: DhcpServerDeps,
  ) {
    this.config = resolveDhcpConfig(config);
    this.now = deps.now ?? Date.now;
    this.book = new LeaseBook(this.now);
  }

  /** Loads the stored leases, checks the interface, binds; resolves once listening. */
  async start(): Promise<void> {
    if (this.socket) throw MgrErr.MGR_ERR_INTERNAL('dhcp server already started');
    const c = this.config;
    if (c.interface !== undefined) checkInterface(c.interface, c.serverIp);
    this.book = new LeaseBook(this.now);
    this.book.load(await this.deps.leases.all());
    this.responder = new DhcpResponder(c, this.deps.reservations, this.deps.leases, this.book, this.now);
    // A boot storm arrives at once: a deep receive queue (capped by net.core.rmem_max) keeps it from being dropped.
    const socket = createSocket({ type: 'udp4', reuseAddr: true, recvBufferSize: RECEIVE_BUFFER, lookup: literalLookup });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ port: c.serverPort, address: c.bindAddress, exclusive: true }, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    socket.setBroadcast(true);
    socket.on('error', (err) => this.deps.log?.(`dhcp socket error: ${err.message}`));
    socket.on('message', (buf, rinfo) => this.onMessage(buf, rinfo));
    this.socket = socket;
  }

  /** The bound port (useful when `serverPort` was 0). */
  get port(): number {
    const a = this.socket?.address();
    return a ? a.port : this.config.serverPort;
  }

  listensOn(): string {
    return `udp ${this.config.bindAddress}:${this.port}${this.config.interface ? ` on ${this.config.interface}` : ''}`;
  }

  /** Drops the lease of `mac` (its instance is gone), in memory and in the store. */
  async forget(mac: string): Promise<void> {
    this.book.unbind(mac.toLowerCase());
    await this.deps.leases.remove(mac.toLowerCase());
  }

  stats(): DhcpStats {
    const size = this.book.size;
    return {
      ...this.counters,
      skipped: { ...this.counters.skipped },
      leases: size.leases,
      offersHeld: size.offers,
      declinedHeld: size.declined,
    };
  }

  async close(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }

  private onMessage(buf: Buffer, _rinfo: RemoteInfo): void {
    this.counters.received++;
    const decoded = decodeDhcp(buf);
    if (!decoded.ok) {
      this.counters.malformed++;
      return;
    }
    if (this.inFlight >= this.config.maxInFlight) {
      this.counters.overloaded++;
      return;
    }
    this.inFlight++;
    this.responder!.respond(decoded.message)
      .then((out) => {
        if (out.kind === 'skip') {
          this.counters.skipped[out.reason]++;
          return;
        }
        if (out.kind === 'OFFER') this.counters.offers++;
        else if (out.kind === 'ACK') this.counters.acks++;
        else this.counters.naks++;
        this.socket?.send(encodeDhcp(out.reply), out.port, out.address, (err) => {
          if (err) this.counters.sendErrors++;
        });
      })
      .catch((err: unknown) => {
        this.counters.internalErrors++;
        this.deps.log?.(`dhcp: ${err instanceof Error ? err.message : String(err)}`);
      })
      .finally(() => {
        this.inFlight--;
      });
  }
}

/** Fails start when the named interface does not exist or does not carry `serverIp`. */
export function checkInterface(name: string, serverIp: string): void {
  const addresses = networkInterfaces()[name];
  if (!addresses) throw MgrErr.MGR_ERR_DHCP_INTERFACE(`no network interface ${name}`);
  if (!addresses.some((a) => a.family === 'IPv4' && a.address === serverIp)) {
    throw MgrErr.MGR_ERR_DHCP_INTERFACE(`interface ${name} does not carry ${serverIp}`);
  }
}
