import { describe, expect, it } from 'vitest';
import { resolveDhcpConfig, type DhcpServerConfig } from './config.js';
import { LeaseBook } from './lease-book.js';
import { MemoryLeaseStore, MemoryReservations } from './memory-sources.js';
import { MessageType, Opt, readIp, readIpList, readString, readU32, readU8 } from './options.js';
import { DhcpResponder, type Outcome } from './responder.js';
import { clientMessage, type ClientFields } from './test-support/messages.js';
import type { MessageTypeName } from './options.js';

const KNOWN = '52:54:00:00:00:01';
const STRANGER = '52:54:00:00:00:99';
const SERVER = '10.77.0.1';

function setup(overrides: Partial<DhcpServerConfig> = {}) {
  let clock = 1_000_000;
  const now = () => clock;
  const cfg = resolveDhcpConfig({
    serverIp: SERVER,
    subnet: '10.77.0.0/24',
    router: SERVER,
    dnsServers: [SERVER],
    domain: 'storm.internal',
    leaseTime: 3600,
    ...overrides,
  });
  const reservations = new MemoryReservations({ [KNOWN]: { ip: '10.77.0.10', hostname: 'web1' } });
  const store = new MemoryLeaseStore();
  const book = new LeaseBook(now);
  const responder = new DhcpResponder(cfg, reservations, store, book, now);
  const send = (type: MessageTypeName, f: ClientFields) => responder.respond(clientMessage(type, f));
  return {
    responder,
    store,
    book,
    reservations,
    send,
    advance: (ms: number) => {
      clock += ms;
    },
  };
}

function reply(out: Outcome) {
  if (out.kind === 'skip') throw new Error(`expected a reply, got skip ${out.reason}`);
  return out;
}

describe('DhcpResponder', () => {
  it('offers a reserved MAC its address with every option (DISCOVER → OFFER)', async () => {
    const { send } = setup();
    const out = reply(await send('DISCOVER', { mac: KNOWN, xid: 42 }));
    expect(out.kind).toBe('OFFER');
    const o = out.reply.options;
    expect([out.reply.xid, out.reply.yiaddr, out.address, out.port]).toEqual([42, '10.77.0.10', '10.77.0.255', 68]);
    expect(readU8(o, Opt.MESSAGE_TYPE)).toBe(MessageType.OFFER);
    expect(readIp(o, Opt.SERVER_ID)).toBe(SERVER);
    expect(readIp(o, Opt.SUBNET_MASK)).toBe('255.255.255.0');
    expect(readIpList(o, Opt.ROUTER)).toEqual([SERVER]);
    expect(readIpList(o, Opt.DNS_SERVERS)).toEqual([SERVER]);
    expect(readString(o, Opt.DOMAIN_NAME)).toBe('storm.internal');
    expect(readString(o, Opt.HOSTNAME)).toBe('web1');
    expect(readU32(o, Opt.LEASE_TIME)).toBe(3600);
    expect(readU32(o, Opt.RENEWAL_TIME)).toBe(1800);
  });

  it('ACKs the selected offer and stores the lease before answering', async () => {
    const { send, store } = setup();
    await send('DISCOVER', { mac: KNOWN });
    const out = reply(await send('REQUEST', { mac: KNOWN, serverId: SERVER, requested: '10.77.0.10' }));
    expect([out.kind, out.reply.yiaddr]).toEqual(['ACK', '10.77.0.10']);
    expect(store.leases.get(KNOWN)).toMatchObject({ ip: '10.77.0.10', hostname: 'web1' });
  });

  it('NAKs a SELECTING request for an address that is not the reservation', async () => {
    const { send, store } = setup();
    const out = reply(await send('REQUEST', { mac: KNOWN, serverId: SERVER, requested: '10.77.0.11' }));
    expect([out.kind, out.address, out.reply.yiaddr]).toEqual(['NAK', '10.77.0.255', '0.0.0.0']);
    expect(store.leases.size).toBe(0);
  });

  it('forgets its offer when the client selects another server', async () => {
    const { send, book } = setup();
    await send('DISCOVER', { mac: KNOWN });
    expect((await send('REQUEST', { mac: KNOWN, serverId: '10.77.0.2', requested: '10.77.0.10' })).kind).toBe('skip');
    expect(book.offerOf(KNOWN)).toBeUndefined();
  });

  it('INIT-REBOOT: ACKs the right address, NAKs a wrong one and any from another network', async () => {
    const { send } = setup();
    expect((await send('REQUEST', { mac: KNOWN, requested: '10.77.0.10' })).kind).toBe('ACK');
    expect((await send('REQUEST', { mac: KNOWN, requested: '10.77.0.12' })).kind).toBe('NAK');
    expect((await send('REQUEST', { mac: KNOWN, requested: '192.168.1.5' })).kind).toBe('NAK');
  });

  it('RENEWING: unicasts the ACK to ciaddr and extends the lease', async () => {
    const { send, store, advance } = setup();
    await send('REQUEST', { mac: KNOWN, requested: '10.77.0.10' });
    const first = store.leases.get(KNOWN)!.expiresAt;
    advance(1_800_000);
    const out = reply(await send('REQUEST', { mac: KNOWN, ciaddr: '10.77.0.10', broadcast: false }));
    expect([out.kind, out.address, out.port, out.reply.ciaddr]).toEqual(['ACK', '10.77.0.10', 68, '10.77.0.10']);
    expect(store.leases.get(KNOWN)!.expiresAt).toBe(first + 1_800_000);
  });

  it('gives an unknown MAC nothing without a pool, whatever it sends', async () => {
    const { send, store } = setup();
    expect(await send('DISCOVER', { mac: STRANGER })).toEqual({ kind: 'skip', reason: 'unknown-client' });
    expect((await send('REQUEST', { mac: STRANGER, requested: '10.77.0.50' })).kind).toBe('skip');
    expect((await send('REQUEST', { mac: STRANGER, ciaddr: '10.77.0.50' })).kind).toBe('skip');
    expect((await send('INFORM', { mac: STRANGER, ciaddr: '10.77.0.50' })).kind).toBe('skip');
    expect((await send('REQUEST', { mac: STRANGER, serverId: SERVER, requested: '10.77.0.50' })).kind).toBe('NAK');
    expect(store.leases.size).toBe(0);
  });

  it('hands out pool addresses, never a reserved one, the server or the router', async () => {
    const { send, store } = setup({ pool: { start: '10.77.0.9', end: '10.77.0.12' } });
    const seen: string[] = [];
    for (let i = 0; i < 3; i++) {
      const mac = `52:54:00:00:01:0${i}`;
      const offer = reply(await send('DISCOVER', { mac, hostname: `dyn${i}` }));
      expect(reply(await send('REQUEST', { mac, serverId: SERVER, requested: offer.reply.yiaddr, hostname: `dyn${i}` })).kind).toBe('ACK');
      seen.push(offer.reply.yiaddr);
    }
    expect(seen.sort()).toEqual(['10.77.0.11', '10.77.0.12', '10.77.0.9']);
    expect(await send('DISCOVER', { mac: '52:54:00:00:01:09' })).toEqual({ kind: 'skip', reason: 'pool-exhausted' });
    expect(store.leases.get('52:54:00:00:01:00')?.hostname).toBe('dyn0');
  });

  it('gives a pool client its previous address again, and frees it on RELEASE', async () => {
    const { send, store } = setup({ pool: { start: '10.77.0.100', end: '10.77.0.110' } });
    const mac = '52:54:00:00:02:01';
    const offer = reply(await send('DISCOVER', { mac }));
    await send('REQUEST', { mac, serverId: SERVER, requested: offer.reply.yiaddr });
    expect(reply(await send('DISCOVER', { mac })).reply.yiaddr).toBe(offer.reply.yiaddr);
    expect(await send('RELEASE', { mac, serverId: SERVER, ciaddr: offer.reply.yiaddr })).toEqual({ kind: 'skip', reason: 'released' });
    expect(store.leases.has(mac)).toBe(false);
  });

  it('stays silent on a RENEWING request from a pool client it has no record of', async () => {
    const { send } = setup({ pool: { start: '10.77.0.100', end: '10.77.0.110' } });
    expect(await send('REQUEST', { mac: '52:54:00:00:02:02', ciaddr: '10.77.0.105' })).toEqual({ kind: 'skip', reason: 'no-record' });
  });

  it('does not offer a DECLINEd address until the hold passes', async () => {
    const { send, advance } = setup({ declineHoldMs: 60_000 });
    await send('DISCOVER', { mac: KNOWN });
    expect((await send('DECLINE', { mac: KNOWN, serverId: SERVER, requested: '10.77.0.10' })).kind).toBe('skip');
    expect(await send('DISCOVER', { mac: KNOWN })).toEqual({ kind: 'skip', reason: 'declined' });
    advance(60_001);
    expect((await send('DISCOVER', { mac: KNOWN })).kind).toBe('OFFER');
  });

  it('answers INFORM from a known client with options and no lease (§3.4)', async () => {
    const { send, store } = setup();
    const out = reply(await send('INFORM', { mac: KNOWN, ciaddr: '10.77.0.10' }));
    expect([out.kind, out.reply.yiaddr, out.address]).toEqual(['ACK', '0.0.0.0', '10.77.0.10']);
    expect(out.reply.options.has(Opt.LEASE_TIME)).toBe(false);
    expect(readString(out.reply.options, Opt.DOMAIN_NAME)).toBe('storm.internal');
    expect(store.leases.size).toBe(0);
  });

  it('answers a relayed client through its relay agent (giaddr)', async () => {
    const { send } = setup();
    const out = reply(await send('DISCOVER', { mac: KNOWN, giaddr: '10.77.0.254' }));
    expect([out.address, out.port]).toEqual(['10.77.0.254', 67]);
  });

  it('never aims a reply off the appliance network (ciaddr or giaddr elsewhere)', async () => {
    const { send } = setup();
    expect(await send('DISCOVER', { mac: KNOWN, ciaddr: '192.0.2.7' })).toEqual({ kind: 'skip', reason: 'off-subnet' });
    expect(await send('DISCOVER', { mac: KNOWN, giaddr: '198.51.100.1' })).toEqual({ kind: 'skip', reason: 'off-subnet' });
  });

  it('does not ACK when the lease cannot be stored', async () => {
    const { responder, store } = setup();
    store.put = async () => {
      throw new Error('disk full');
    };
    const out = await responder.respond(clientMessage('REQUEST', { mac: KNOWN, requested: '10.77.0.10' }));
    expect(out).toEqual({ kind: 'skip', reason: 'store-failed' });
  });
});
