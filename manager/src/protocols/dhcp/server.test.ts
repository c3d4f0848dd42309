import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeDhcp, type DhcpMessage } from './codec.js';
import { MemoryLeaseStore, MemoryReservations } from './memory-sources.js';
import { DhcpServer } from './server.js';
import { clientPacket } from './test-support/messages.js';

const KNOWN = '52:54:00:00:00:01';
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

/** A server on loopback whose broadcast replies go to a client socket on loopback. */
async function loopbackServer(leases = new MemoryLeaseStore()) {
  const client = createSocket('udp4');
  await new Promise<void>((r) => client.bind(0, '127.0.0.1', r));
  closers.push(() => new Promise((r) => client.close(() => r())));
  const server = new DhcpServer(
    {
      serverIp: '127.0.0.1',
      subnet: '127.0.0.0/24',
      router: '127.0.0.1',
      dnsServers: ['127.0.0.1'],
      domain: 'storm.internal',
      leaseTime: 600,
      bindAddress: '127.0.0.1',
      serverPort: 0,
      clientPort: client.address().port,
      broadcastAddress: '127.0.0.1',
    },
    { reservations: new MemoryReservations({ [KNOWN]: { ip: '127.0.0.10', hostname: 'web1' } }), leases },
  );
  await server.start();
  closers.push(() => server.close());
  return { server, client };
}

function nextReply(client: Socket, timeoutMs = 2000): Promise<DhcpMessage | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      client.off('message', on);
      resolve(undefined);
    }, timeoutMs);
    const on = (buf: Buffer) => {
      const out = decodeDhcp(buf);
      if (!out.ok) return;
      clearTimeout(timer);
      client.off('message', on);
      resolve(out.message);
    };
    client.on('message', on);
  });
}

describe('DhcpServer on a socket', () => {
  it('answers DISCOVER and REQUEST over UDP', async () => {
    const { server, client } = await loopbackServer();
    const send = (b: Buffer) => client.send(b, server.port, '127.0.0.1');
    let reply = nextReply(client);
    send(clientPacket('DISCOVER', { mac: KNOWN, xid: 9 }));
    expect((await reply)?.yiaddr).toBe('127.0.0.10');
    reply = nextReply(client);
    send(clientPacket('REQUEST', { mac: KNOWN, xid: 9, serverId: '127.0.0.1', requested: '127.0.0.10' }));
    expect((await reply)?.yiaddr).toBe('127.0.0.10');
    expect(server.stats()).toMatchObject({ received: 2, offers: 1, acks: 1, leases: 1 });
  });

  it('drops and counts malformed packets, and still answers afterwards', async () => {
    const { server, client } = await loopbackServer();
    for (const junk of [
      Buffer.alloc(0),
      Buffer.alloc(239),
      Buffer.alloc(300, 0xff),
      clientPacket('DISCOVER', { mac: KNOWN }).subarray(0, 244),
    ]) {
      client.send(junk, server.port, '127.0.0.1');
    }
    const reply = nextReply(client);
    client.send(clientPacket('DISCOVER', { mac: KNOWN }), server.port, '127.0.0.1');
    expect((await reply)?.yiaddr).toBe('127.0.0.10');
    expect(server.stats()).toMatchObject({ received: 5, malformed: 4, offers: 1 });
  });

  it('loads the stored leases at start', async () => {
    const leases = new MemoryLeaseStore();
    await leases.put({ mac: '52:54:00:00:00:07', ip: '127.0.0.107', hostname: null, clientId: null, expiresAt: Date.now() + 60_000 });
    const client = createSocket('udp4');
    await new Promise<void>((r) => client.bind(0, '127.0.0.1', r));
    closers.push(() => new Promise((r) => client.close(() => r())));
    const server = new DhcpServer(
      {
        serverIp: '127.0.0.1',
        subnet: '127.0.0.0/24',
        dnsServers: [],
        domain: 'storm.internal',
        leaseTime: 600,
        pool: { start: '127.0.0.100', end: '127.0.0.120' },
        bindAddress: '127.0.0.1',
        serverPort: 0,
        clientPort: client.address().port,
        broadcastAddress: '127.0.0.1',
        maxInFlight: 4,
      },
      { reservations: new MemoryReservations(), leases },
    );
    await server.start();
    closers.push(() => server.close());
    expect(server.stats().leases).toBe(1);
  });

  it('refuses to start on an interface that does not carry the server address', async () => {
    const server = new DhcpServer(
      {
        interface: 'lo',
        serverIp: '127.0.0.2',
        subnet: '127.0.0.0/24',
        dnsServers: [],
        domain: 'storm.internal',
        leaseTime: 600,
        serverPort: 0,
      },
      { reservations: new MemoryReservations(), leases: new MemoryLeaseStore() },
    );
    await expect(server.start()).rejects.toMatchObject({ code: 'MGR_ERR_DHCP_INTERFACE' });
  });
});
