/**
 * The RFC 2131 state machine without a socket: given one decoded client message it decides the
 * reply (OFFER, ACK or NAK) and where it goes (§4.1), or why there is none. Leases are written to
 * the store before an ACK leaves, so an ACKed address survives a restart.
 *
 * @example
 * const responder = new DhcpResponder(resolveDhcpConfig(cfg), reservations, store, new LeaseBook(Date.now), Date.now);
 * const out = await responder.respond(message);
 * if (out.kind !== 'skip') socket.send(encodeDhcp(out.reply), out.port, out.address);
 */
import { BOOTREPLY, BOOTREQUEST, type DhcpMessage, FLAG_BROADCAST, macOf } from './codec.js';
import type { ResolvedDhcpConfig } from './config.js';
import { inCidr, intToIp, ipToInt } from '../../network/ipv4.js';
import type { LeaseBook } from './lease-book.js';
import { type DhcpOptions, ip, ips, MessageType, Opt, readIp, readString, readU8, str, u32, u8 } from './options.js';
import type { LeaseStore, ReservationSource } from './sources.js';

export type SkipReason =
  | 'not-a-request'
  | 'no-message-type'
  | 'unsupported-type'
  | 'unknown-client'
  | 'other-server'
  | 'no-record'
  | 'pool-exhausted'
  | 'declined'
  | 'released'
  | 'store-failed'
  | 'bad-request'
  | 'off-subnet';

export type Outcome =
  | { readonly kind: 'OFFER' | 'ACK' | 'NAK'; readonly reply: DhcpMessage; readonly address: string; readonly port: number }
  | { readonly kind: 'skip'; readonly reason: SkipReason };

interface Binding {
  readonly ip: string;
  readonly hostname: string | null;
}

type Entitlement = Binding | 'wrong' | 'unknown';

const ZERO = '0.0.0.0';
/** Relay agents listen on the BOOTP server port (RFC 1542 §4.1). */
const RELAY_PORT = 67;
const HOST_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;

export class DhcpResponder {
  private cursor = 0;

  constructor(
    private readonly cfg: ResolvedDhcpConfig,
    private readonly reservations: ReservationSource,
    private readonly store: LeaseStore,
    private readonly book: LeaseBook,
    private readonly now: () => number,
  ) {}

  async respond(msg: DhcpMessage): Promise<Outcome> {
    if (msg.op !== BOOTREQUEST) return skip('not-a-request');
    const type = readU8(msg.options, Opt.MESSAGE_TYPE);
    if (type === undefined) return skip('no-message-type');
    // Replies go to ciaddr or giaddr; never let a packet aim them anywhere off the appliance network.
    if ((msg.ciaddr !== ZERO && !this.inSubnet(msg.ciaddr)) || (msg.giaddr !== ZERO && !this.inSubnet(msg.giaddr)))
      return skip('off-subnet');
    const mac = macOf(msg);
    switch (type) {
      case MessageType.DISCOVER:
        return this.discover(msg, mac);
      case MessageType.REQUEST:
        return this.request(msg, mac);
      case MessageType.DECLINE:
        return this.decline(msg, mac);
      case MessageType.RELEASE:
        return this.release(msg, mac);
      case MessageType.INFORM:
        return this.inform(msg, mac);
      default:
        return skip('unsupported-type');
    }
  }

  private async discover(msg: DhcpMessage, mac: string): Promise<Outcome> {
    const reserved = await this.reservations.byMac(mac);
    if (reserved) {
      if (!this.inSubnet(reserved.ip)) return skip('unknown-client');
      if (this.book.isDeclined(reserved.ip)) return skip('declined');
      this.book.offer(mac, reserved.ip, this.cfg.offerHoldMs);
      return this.reply(msg, MessageType.OFFER, { ip: reserved.ip, hostname: reserved.hostname });
    }
    if (!this.cfg.pool) return skip('unknown-client');
    const picked = await this.pickFromPool(mac, readIp(msg.options, Opt.REQUESTED_IP));
    if (picked === undefined) return skip('pool-exhausted');
    this.book.offer(mac, picked, this.cfg.offerHoldMs);
    return this.reply(msg, MessageType.OFFER, { ip: picked, hostname: clientHostname(msg.options) });
  }

  private async request(msg: DhcpMessage, mac: string): Promise<Outcome> {
    const serverId = readIp(msg.options, Opt.SERVER_ID);
    const requested = readIp(msg.options, Opt.REQUESTED_IP);
    if (serverId !== undefined) {
      // SELECTING: the client chose a server; if not us, our offer is void.
      if (serverId !== this.cfg.serverIp) {
        this.book.dropOffer(mac);
        return skip('other-server');
      }
      if (requested === undefined || msg.ciaddr !== ZERO) return this.nak(msg);
      return this.grant(msg, mac, requested, true);
    }
    if (requested !== undefined && msg.ciaddr === ZERO) {
      // INIT-REBOOT: NAK an address from the wrong network, stay silent without a record (§4.3.2).
      if (!this.inSubnet(requested)) return this.nak(msg);
      return this.grant(msg, mac, requested, false);
    }
    if (msg.ciaddr !== ZERO) return this.grant(msg, mac, msg.ciaddr, false); // RENEWING or REBINDING
    return skip('bad-request');
  }

  /** ACK when `mac` may hold `address`, NAK when it may not, silence when we have no record of it. */
  private async grant(msg: DhcpMessage, mac: string, address: string, selecting: boolean): Promise<Outcome> {
    const entitled = await this.entitlement(mac, address, selecting, clientHostname(msg.options));
    if (entitled === 'wrong' || (entitled === 'unknown' && selecting)) return this.nak(msg);
    if (entitled === 'unknown') return skip('no-record');
    const lease = {
      mac,
      ip: entitled.ip,
      hostname: entitled.hostname,
      clientId: clientId(msg.options),
      expiresAt: this.now() + this.cfg.leaseTime * 1000,
    };
    const previous = this.book.leaseOf(mac);
    this.book.bind(lease);
    try {
      await this.store.put(lease);
    } catch {
      this.book.unbind(mac);
      if (previous) this.book.bind(previous);
      return skip('store-failed');
    }
    return this.reply(msg, MessageType.ACK, entitled);
  }

  private async entitlement(mac: string, address: string, selecting: boolean, ownName: string | null): Promise<Entitlement> {
    const reserved = await this.reservations.byMac(mac);
    if (reserved) return reserved.ip === address && this.inSubnet(address) ? { ip: address, hostname: reserved.hostname } : 'wrong';
    if (!this.cfg.pool) return 'unknown';
    const lease = this.book.leaseOf(mac);
    const hostname = lease?.hostname ?? ownName;
    if (!this.inSubnet(address) || !this.inPool(address)) return lease || selecting ? 'wrong' : 'unknown';
    if (!this.book.freeFor(address, mac)) return 'wrong';
    const known = lease?.ip === address || this.book.offerOf(mac) === address;
    if (!known && !selecting) return lease ? 'wrong' : 'unknown';
    if (!known && (await this.reservations.isReserved(address))) return 'wrong';
    if (!this.book.freeFor(address, mac)) return 'wrong';
    return { ip: address, hostname };
  }

  private async decline(msg: DhcpMessage, mac: string): Promise<Outcome> {
    const address = readIp(msg.options, Opt.REQUESTED_IP);
    if (readIp(msg.options, Opt.SERVER_ID) !== this.cfg.serverIp || address === undefined) return skip('other-server');
    const held =
      this.book.leaseOf(mac)?.ip === address || this.book.offerOf(mac) === address || (await this.reservations.byMac(mac))?.ip === address;
    if (!held) return skip('no-record');
    this.book.decline(address, this.cfg.declineHoldMs);
    if (this.book.leaseOf(mac)?.ip === address) await this.forget(mac);
    return skip('declined');
  }

  private async release(msg: DhcpMessage, mac: string): Promise<Outcome> {
    if (readIp(msg.options, Opt.SERVER_ID) !== this.cfg.serverIp) return skip('other-server');
    if (this.book.leaseOf(mac)?.ip !== msg.ciaddr) return skip('no-record');
    await this.forget(mac);
    return skip('released');
  }

  private async inform(msg: DhcpMessage, mac: string): Promise<Outcome> {
    if (msg.ciaddr === ZERO || !this.inSubnet(msg.ciaddr)) return skip('bad-request');
    const reserved = await this.reservations.byMac(mac);
    const lease = this.book.leaseOf(mac);
    // Configuration only for clients we know, so an unknown MAC learns nothing from us.
    if (!reserved && !(lease && this.book.isActive(lease))) return skip('unknown-client');
    return this.reply(msg, MessageType.ACK, { ip: ZERO, hostname: reserved?.hostname ?? lease?.hostname ?? null }, true);
  }

  private async forget(mac: string): Promise<void> {
    this.book.unbind(mac);
    await this.store.remove(mac).catch(() => undefined);
  }

  private async pickFromPool(mac: string, requested: string | undefined): Promise<string | undefined> {
    const pool = this.cfg.pool!;
    const size = pool.end - pool.start + 1;
    const preferred = [this.book.offerOf(mac), this.book.leaseOf(mac)?.ip, requested].filter(
      (a): a is string => a !== undefined && this.inPool(a),
    );
    for (const candidate of preferred) if (await this.usable(candidate, mac)) return candidate;
    for (let i = 0; i < size; i++) {
      const candidate = intToIp(pool.start + ((this.cursor + i) % size));
      if (await this.usable(candidate, mac)) {
        this.cursor = (this.cursor + i + 1) % size;
        return candidate;
      }
    }
    return undefined;
  }

  private async usable(address: string, mac: string): Promise<boolean> {
    if (address === this.cfg.serverIp || address === this.cfg.router || !this.book.freeFor(address, mac)) return false;
    if (await this.reservations.isReserved(address)) return false;
    return this.book.freeFor(address, mac); // again: another packet may have claimed it while we awaited
  }

  private nak(msg: DhcpMessage): Outcome {
    const options: DhcpOptions = new Map([
      [Opt.MESSAGE_TYPE, u8(MessageType.NAK)],
      [Opt.SERVER_ID, ip(this.cfg.serverIp)],
    ]);
    const reply = this.header(msg, ZERO, ZERO, options, msg.giaddr !== ZERO ? FLAG_BROADCAST : msg.flags);
    return { kind: 'NAK', reply, ...this.destination(msg, MessageType.NAK) };
  }

  private reply(msg: DhcpMessage, type: typeof MessageType.OFFER | typeof MessageType.ACK, binding: Binding, inform = false): Outcome {
    const c = this.cfg;
    const options: DhcpOptions = new Map([
      [Opt.MESSAGE_TYPE, u8(type)],
      [Opt.SERVER_ID, ip(c.serverIp)],
    ]);
    if (!inform) {
      options.set(Opt.LEASE_TIME, u32(c.leaseTime));
      options.set(Opt.RENEWAL_TIME, u32(Math.floor(c.leaseTime / 2)));
      options.set(Opt.REBINDING_TIME, u32(Math.floor((c.leaseTime * 7) / 8)));
    }
    options.set(Opt.SUBNET_MASK, ip(c.mask));
    if (c.router) options.set(Opt.ROUTER, ip(c.router));
    options.set(Opt.BROADCAST_ADDRESS, ip(intToIp((c.subnet.network | ~c.subnet.mask) >>> 0)));
    if (c.dnsServers.length) options.set(Opt.DNS_SERVERS, ips(c.dnsServers));
    options.set(Opt.DOMAIN_NAME, str(c.domain));
    if (binding.hostname) options.set(Opt.HOSTNAME, str(binding.hostname));
    const ciaddr = type === MessageType.ACK ? msg.ciaddr : ZERO;
    return {
      kind: type === MessageType.OFFER ? 'OFFER' : 'ACK',
      reply: this.header(msg, ciaddr, binding.ip, options, msg.flags),
      ...this.destination(msg, type),
    };
  }

  private header(msg: DhcpMessage, ciaddr: string, yiaddr: string, options: DhcpOptions, flags: number): DhcpMessage {
    return {
      op: BOOTREPLY,
      htype: msg.htype,
      hlen: msg.hlen,
      hops: 0,
      xid: msg.xid,
      secs: 0,
      flags,
      ciaddr,
      yiaddr,
      siaddr: this.cfg.serverIp,
      giaddr: msg.giaddr,
      chaddr: msg.chaddr,
      sname: '',
      file: '',
      options,
    };
  }

  /** RFC 2131 §4.1: relay first, NAK broadcast, then ciaddr, else broadcast (we cannot unicast to a client without an ARP entry). */
  private destination(msg: DhcpMessage, type: number): { address: string; port: number } {
    if (msg.giaddr !== ZERO) return { address: msg.giaddr, port: RELAY_PORT };
    if (type !== MessageType.NAK && msg.ciaddr !== ZERO) return { address: msg.ciaddr, port: this.cfg.clientPort };
    return { address: this.cfg.broadcastAddress, port: this.cfg.clientPort };
  }

  private inSubnet(address: string): boolean {
    return inCidr(ipToInt(address), this.cfg.subnet);
  }

  private inPool(address: string): boolean {
    const pool = this.cfg.pool;
    const n = ipToInt(address);
    return pool !== undefined && n >= pool.start && n <= pool.end;
  }
}

function skip(reason: SkipReason): Outcome {
  return { kind: 'skip', reason };
}

function clientId(options: DhcpOptions): string | null {
  const v = options.get(Opt.CLIENT_ID);
  return v?.length ? v.toString('hex') : null;
}

/** A pool client's own option 12, when it is a sane single label. */
function clientHostname(options: DhcpOptions): string | null {
  const name = readString(options, Opt.HOSTNAME);
  return name && HOST_LABEL.test(name) ? name.toLowerCase() : null;
}
