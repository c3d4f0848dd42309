import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { decodeDhcp, macOf } from './codec.js';
import { MemoryLeaseStore, MemoryReservations } from './memory-sources.js';
import { DhcpServer } from './server.js';
import { mutate, randomBytes, seededRandom } from './test-support/fuzz.js';
import { clientPacket } from './test-support/messages.js';

const PACKETS = 100_000;
const RESERVED: Record<string, { ip: string; hostname: string }> = { '52:54:00:00:00:01': { ip: '127.0.0.10', hostname: 'web1' } };

/** Waits until the server took in `target` packets, or its count stops moving (the kernel dropped some). */
async function drained(count: () => number, target: number): Promise<void> {
  let last = -1;
  for (let still = 0; count() < target && still < 3; ) {
    await new Promise((r) => setTimeout(r, 0));
    still = count() === last ? still + 1 : 0;
    last = count();
  }
}

describe('DhcpServer robustness', () => {
  it(`survives ${PACKETS.toLocaleString('en')} random and malformed packets, stays bounded, gives no unknown MAC anything`, async () => {
    const seed = Number(process.env['STORM_FUZZ_SEED'] ?? Date.now() % 1_000_000);
    const rng = seededRandom(seed);
    const client = createSocket('udp4');
    await new Promise<void>((r) => client.bind(0, '127.0.0.1', r));
    const leases = new MemoryLeaseStore();
    const errors: string[] = [];
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
      { reservations: new MemoryReservations(RESERVED), leases, log: (m) => errors.push(m) },
    );
    await server.start();
    const wrongReplies: string[] = [];
    let replies = 0;
    client.on('message', (buf) => {
      replies++;
      const out = decodeDhcp(buf);
      if (!out.ok) return void wrongReplies.push('undecodable reply');
      const mac = macOf(out.message);
      const yiaddr = out.message.yiaddr;
      if (yiaddr !== '0.0.0.0' && RESERVED[mac]?.ip !== yiaddr) wrongReplies.push(`${mac} got ${yiaddr}`);
    });
    const known = '52:54:00:00:00:01';
    const valid = [
      clientPacket('DISCOVER', { mac: known }),
      clientPacket('REQUEST', { mac: known, serverId: '127.0.0.1', requested: '127.0.0.10' }),
      clientPacket('DISCOVER', { mac: '52:54:00:00:00:99' }),
      clientPacket('REQUEST', { mac: '52:54:00:00:00:99', requested: '127.0.0.50' }),
      clientPacket('INFORM', { mac: '52:54:00:00:00:98', ciaddr: '127.0.0.60' }),
      clientPacket('DECLINE', { mac: known, serverId: '127.0.0.1', requested: '127.0.0.10' }),
    ];
    try {
      const heapBefore = process.memoryUsage().heapUsed;
      for (let sent = 0; sent < PACKETS; ) {
        for (let i = 0; i < 100; i++, sent++) {
          const packet = rng() < 0.3 ? randomBytes(rng, 700) : mutate(valid[Math.floor(rng() * valid.length)]!, rng);
          client.send(packet, server.port, '127.0.0.1');
        }
        // Pace by what the server took in, so the kernel's socket buffer does not drop the test's input.
        await drained(() => server.stats().received, sent);
      }
      await new Promise((r) => setTimeout(r, 200));
      const stats = server.stats();
      // It still answers a valid client.
      const answered = new Promise<boolean>((resolve) => {
        const t = setTimeout(() => resolve(false), 2000);
        client.on('message', (buf) => {
          const out = decodeDhcp(buf);
          if (out.ok && out.message.xid === 0x5eed) {
            clearTimeout(t);
            resolve(true);
          }
        });
      });
      client.send(clientPacket('REQUEST', { mac: known, xid: 0x5eed, requested: '127.0.0.10' }), server.port, '127.0.0.1');
      expect(await answered, `seed ${seed}`).toBe(true);
      expect(stats.received, `seed ${seed}`).toBeGreaterThan(PACKETS * 0.99);
      expect(stats.malformed).toBeGreaterThan(PACKETS * 0.3);
      expect(errors.slice(0, 3), `seed ${seed}`).toEqual([]);
      expect(stats.internalErrors, `seed ${seed}`).toBe(0);
      expect(wrongReplies.slice(0, 5), `seed ${seed}`).toEqual([]);
      expect(
        [...leases.leases.keys()].every((mac) => mac in RESERVED),
        `seed ${seed}`,
      ).toBe(true);
      expect(stats.offersHeld).toBeLessThanOrEqual(1);
      expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024);
      expect(replies).toBeGreaterThan(0);
    } finally {
      await server.close();
      await new Promise<void>((r) => client.close(() => r()));
    }
  }, 60_000);
});
