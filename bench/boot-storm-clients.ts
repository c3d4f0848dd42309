/**
 * The boot storm's DHCP and DNS clients, in a worker thread of their own (bench/boot-storm.ts starts
 * it): every simulated guest's DISCOVER → OFFER → REQUEST → ACK, then its two lookups. On the main
 * thread they shared one event loop with a thousand TLS handshakes, and Node reads at most 32
 * datagrams of a socket per turn of its loop, so answers that came in time waited hundreds of ms
 * to be read and were taken for losses; a real guest reads its answers on its own CPU. The worker
 * posts `bound` (the DHCP client port), then per guest `ready` or `failed`, then `done`.
 */
import { createSocket, type Socket } from 'node:dgram';
import { parentPort, workerData } from 'node:worker_threads';
import { decodeDhcp } from '../manager/src/protocols/dhcp/codec.js';
import { MessageType, Opt, readU8 } from '../manager/src/protocols/dhcp/options.js';
import { clientPacket } from '../manager/src/protocols/dhcp/test-support/messages.js';
import { query } from '../manager/src/protocols/dns/test-support/fixtures.js';
import type { StormGuest } from './boot-storm.js';

export interface ClientsSetup {
  readonly guests: readonly StormGuest[];
  readonly retryMs: number;
}

export interface ClientsRun {
  readonly dhcpPort: number;
  readonly dnsPort: number;
  readonly serverIp: string;
  readonly domain: string;
}

/** What the worker posts; times are absolute (performance.timeOrigin + now), as the threads' clocks start apart. */
export type ClientsMessage =
  | { readonly kind: 'bound'; readonly port: number }
  | { readonly kind: 'ready'; readonly i: number; readonly leasedAt: number; readonly resolvedAt: number }
  | { readonly kind: 'failed'; readonly i: number; readonly error: string }
  | { readonly kind: 'done'; readonly retransmits: number };

type Waiter = (buf: Buffer) => void;

const at = () => performance.timeOrigin + performance.now();

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

const bind = async (socket: Socket) => new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));

async function main(): Promise<void> {
  const port = parentPort!;
  const { guests, retryMs } = workerData as ClientsSetup;
  const post = (m: ClientsMessage) => port.postMessage(m);
  // One socket stands in for 1,000 guests' port 68 (the server's replies go to one port): room for all of them at once.
  const dhcpSocket = createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024 });
  await bind(dhcpSocket);
  const run = new Promise<ClientsRun>((resolve) => port.once('message', resolve));
  post({ kind: 'bound', port: dhcpSocket.address().port });
  const o = await run;

  const counter = { retransmits: 0 };
  const dhcpWaiters = new Map<number, Waiter>();
  const dnsWaiters = new Map<number, Waiter>();
  dhcpSocket.on('message', (buf) => {
    const out = decodeDhcp(buf);
    if (out.ok) dhcpWaiters.get(out.message.xid * 8 + (readU8(out.message.options, Opt.MESSAGE_TYPE) ?? 0))?.(buf);
  });
  let dnsId = 0;
  const resolveName = async (resolver: Socket, name: string): Promise<void> => {
    const id = dnsId++ & 0xffff;
    const reply = await exchange(resolver, o.dnsPort, query(name, 'A', { id }), dnsWaiters, id, retryMs, counter);
    if ((reply[3]! & 0xf) !== 0) throw new Error(`${name}: rcode ${reply[3]! & 0xf}`);
  };

  const boot = async (guest: StormGuest, i: number): Promise<void> => {
    const xid = 0x100000 + i;
    const offer = decodeDhcp(
      await exchange(
        dhcpSocket,
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
      dhcpSocket,
      o.dhcpPort,
      clientPacket('REQUEST', { mac: guest.mac, xid, serverId: o.serverIp, requested: offered }),
      dhcpWaiters,
      xid * 8 + MessageType.ACK,
      retryMs,
      counter,
    );
    const leasedAt = at();
    // Each guest its own resolver socket, as each real guest has.
    const resolver = createSocket('udp4');
    await bind(resolver);
    resolver.on('message', (buf) => buf.length >= 2 && dnsWaiters.get(buf.readUInt16BE(0))?.(buf));
    try {
      await Promise.all([resolveName(resolver, 'storm.local'), resolveName(resolver, `${guest.name}.${o.domain}`)]);
    } finally {
      resolver.close();
    }
    post({ kind: 'ready', i, leasedAt, resolvedAt: at() });
  };

  await Promise.all(
    guests.map((g, i) =>
      boot(g, i).catch((err: unknown) => post({ kind: 'failed', i, error: err instanceof Error ? err.message : String(err) })),
    ),
  );
  post({ kind: 'done', retransmits: counter.retransmits });
  await new Promise<void>((r) => dhcpSocket.close(() => r()));
}

await main();
