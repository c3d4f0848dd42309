/**
 * A boot storm: many simulated guests at once, each doing what a STORM guest does at boot —
 * DHCP (DISCOVER → OFFER → REQUEST → ACK), then DNS (`storm.local` and its own name), then
 * `storm.getConfig` through the `getConfig` hook (bench/guest-config-server.ts: a real manager over
 * TLS). Clients speak the protocols themselves on loopback and retransmit like real ones.
 *
 * @example
 * const result = await runBootStorm({ guests, dhcpSocket, dhcpPort, dnsPort, serverIp: '127.1.0.1', hooks: {} });
 * result.totalMs; result.perGuestMs; // p99 = percentile(result.perGuestMs, 99)
 */
import { createSocket, type Socket } from 'node:dgram';
import { decodeDhcp } from '../manager/src/protocols/dhcp/codec.js';
import { MessageType, Opt, readU8 } from '../manager/src/protocols/dhcp/options.js';
import { clientPacket } from '../manager/src/protocols/dhcp/test-support/messages.js';
import { query } from '../manager/src/protocols/dns/test-support/fixtures.js';

export interface StormGuest {
  readonly mac: string;
  readonly ip: string;
  readonly name: string;
}

export interface BootStormHooks {
  /** The third step of a boot; resolve when the guest has its configuration. */
  getConfig?(guest: StormGuest): Promise<void>;
}

export interface BootStormOptions {
  readonly guests: readonly StormGuest[];
  /** Bound to the port the DHCP server sends its (broadcast) replies to. */
  readonly dhcpSocket: Socket;
  readonly dhcpPort: number;
  readonly dnsPort: number;
  readonly serverIp: string;
  readonly domain: string;
  readonly hooks: BootStormHooks;
  /** A client's wait before it sends again, ms. */
  readonly retryMs?: number;
}

export interface BootStormResult {
  readonly totalMs: number;
  readonly perGuestMs: number[];
  /** When each guest had its lease and its two names, ms from the start: where the time goes. */
  readonly leasedAtMs: number[];
  readonly resolvedAtMs: number[];
  readonly retransmits: number;
  readonly failures: string[];
}

type Waiter = (buf: Buffer) => void;

/** Sends `packet` until `waiters` gets an answer for `key`, at most `tries` times. */
function exchange(
  socket: Socket,
  port: number,
  packet: Buffer,
  waiters: Map<number, Waiter>,
  key: number,
  retryMs: number,
  counter: { retransmits: number },
  tries = 6,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    let timer: NodeJS.Timeout;
    const send = () => {
      if (answered) return;
      if (sent++ >= tries) {
        waiters.delete(key);
        reject(new Error(`no answer after ${tries} tries`));
        return;
      }
      if (sent > 1) counter.retransmits++;
      socket.send(packet, port, '127.0.0.1');
      // Node runs due timers before it reads its sockets: decide after the next read, so an answer that came
      // in time but waited behind the other simulated guests' work is not taken for a loss (a guest has its own CPU).
      timer = setTimeout(() => setImmediate(send), retryMs);
    };
    waiters.set(key, (buf) => {
      answered = true;
      clearTimeout(timer);
      waiters.delete(key);
      resolve(buf);
    });
    send();
  });
}

export async function runBootStorm(o: BootStormOptions): Promise<BootStormResult> {
  const retryMs = o.retryMs ?? 500;
  const counter = { retransmits: 0 };
  const dhcpWaiters = new Map<number, Waiter>();
  const dnsWaiters = new Map<number, Waiter>();
  o.dhcpSocket.on('message', (buf) => {
    const out = decodeDhcp(buf);
    if (out.ok) dhcpWaiters.get(out.message.xid * 8 + (readU8(out.message.options, Opt.MESSAGE_TYPE) ?? 0))?.(buf);
  });
  // One socket stands in for 1,000 guests' sockets: give it room for all their replies at once.
  const dns = createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024 });
  await new Promise<void>((r) => dns.bind(0, '127.0.0.1', r));
  dns.on('message', (buf) => buf.length >= 2 && dnsWaiters.get(buf.readUInt16BE(0))?.(buf));
  let dnsId = 0;
  const resolveName = async (name: string): Promise<void> => {
    const id = dnsId++ & 0xffff;
    const reply = await exchange(dns, o.dnsPort, query(name, 'A', { id }), dnsWaiters, id, retryMs, counter);
    if ((reply[3]! & 0xf) !== 0) throw new Error(`${name}: rcode ${reply[3]! & 0xf}`);
  };
  const failures: string[] = [];
  const perGuestMs: number[] = [];
  const leasedAtMs: number[] = [];
  const resolvedAtMs: number[] = [];
  let start = 0;

  const boot = async (guest: StormGuest, xid: number): Promise<void> => {
    const t0 = performance.now();
    const offer = decodeDhcp(
      await exchange(
        o.dhcpSocket,
        o.dhcpPort,
        clientPacket('DISCOVER', { mac: guest.mac, xid }),
        dhcpWaiters,
        xid * 8 + MessageType.OFFER,
        retryMs,
        counter,
      ),
    );
    const offered = offer.ok ? offer.message.yiaddr : '';
    if (offered !== guest.ip) throw new Error(`${guest.mac} offered ${offered}, expected ${guest.ip}`);
    await exchange(
      o.dhcpSocket,
      o.dhcpPort,
      clientPacket('REQUEST', { mac: guest.mac, xid, serverId: o.serverIp, requested: offered }),
      dhcpWaiters,
      xid * 8 + MessageType.ACK,
      retryMs,
      counter,
    );
    leasedAtMs.push(performance.now() - start);
    await Promise.all([resolveName('storm.local'), resolveName(`${guest.name}.${o.domain}`)]);
    resolvedAtMs.push(performance.now() - start);
    await o.hooks.getConfig?.(guest);
    perGuestMs.push(performance.now() - t0);
  };

  start = performance.now();
  await Promise.all(
    o.guests.map((g, i) =>
      boot(g, 0x100000 + i).catch((err: unknown) => void failures.push(`${g.name}: ${err instanceof Error ? err.message : String(err)}`)),
    ),
  );
  const totalMs = performance.now() - start;
  await new Promise<void>((r) => dns.close(() => r()));
  return { totalMs, perGuestMs, leasedAtMs, resolvedAtMs, retransmits: counter.retransmits, failures };
}

/** `count` guests with MACs 52:54:00:xx:xx:xx and addresses from `firstIp` on (as an integer). */
export function stormGuests(count: number, firstIp: number): StormGuest[] {
  return Array.from({ length: count }, (_, i) => {
    const n = firstIp + i;
    return {
      mac: `52:54:00:${((i >> 16) & 255).toString(16).padStart(2, '0')}:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`,
      ip: `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`,
      name: `guest${String(i + 1).padStart(4, '0')}`,
    };
  });
}
