import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { mutate, randomBytes, seededRandom } from '../dhcp/test-support/fuzz.js';
import { DnsServer } from './server.js';
import { answerData, decode, query, sampleZone } from './test-support/fixtures.js';

const PACKETS = 100_000;

/** Waits until the server took in `target` datagrams, or its count stops moving (the kernel dropped some). */
async function drained(count: () => number, target: number): Promise<void> {
  let last = -1;
  for (let still = 0; count() < target && still < 3; ) {
    await new Promise((r) => setTimeout(r, 0));
    still = count() === last ? still + 1 : 0;
    last = count();
  }
}

describe('DnsServer robustness', () => {
  it(`survives ${PACKETS.toLocaleString('en')} random and malformed datagrams and garbage over TCP, and stays bounded`, async () => {
    const seed = Number(process.env['STORM_FUZZ_SEED'] ?? Date.now() % 1_000_000);
    const rng = seededRandom(seed);
    const errors: string[] = [];
    const server = new DnsServer(
      { listen: '127.0.0.1:0', networks: ['10.77.0.0/24'], cacheEntries: 2000 },
      { zone: sampleZone(), log: (m) => errors.push(m) },
    );
    await server.start();
    const port = server.address.port;
    const client = createSocket('udp4');
    await new Promise<void>((r) => client.bind(0, '127.0.0.1', r));
    let answers = 0;
    client.on('message', () => answers++);
    const valid = [
      query('web1.storm.internal', 'A'),
      query('storm.local', 'A', { edns: 1232 }),
      query('10.0.77.10.in-addr.arpa', 'PTR'),
      query('storm.internal', 'MX'),
      query('_ldap._tcp.storm.internal', 'SRV', { edns: 4096 }),
      query('example.org', 'A'),
      query('big.storm.internal', 'TXT'),
    ];
    try {
      const heapBefore = process.memoryUsage().heapUsed;
      for (let sent = 0; sent < PACKETS; ) {
        for (let i = 0; i < 100; i++, sent++) {
          client.send(rng() < 0.3 ? randomBytes(rng, 600) : mutate(valid[Math.floor(rng() * valid.length)]!, rng), port, '127.0.0.1');
        }
        await drained(() => server.stats().udp, sent);
      }
      // Garbage over TCP: random frames and random streams on a few connections.
      await Promise.all(
        Array.from(
          { length: 20 },
          () =>
            new Promise<void>((resolve) => {
              const s = connect(port, '127.0.0.1', () => {
                for (let i = 0; i < 50; i++) {
                  const body = rng() < 0.5 ? randomBytes(rng, 300) : mutate(valid[Math.floor(rng() * valid.length)]!, rng);
                  s.write(Buffer.concat([Buffer.from([body.length >> 8, body.length & 255]), body]));
                }
                s.write(randomBytes(rng, 2000));
                s.end();
              });
              s.on('data', () => undefined);
              s.on('error', () => resolve());
              s.on('close', () => resolve());
            }),
        ),
      );
      const stats = server.stats();
      const after = await new Promise<Buffer | undefined>((resolve) => {
        const t = setTimeout(() => resolve(undefined), 2000);
        client.on('message', (m) => {
          if (m.readUInt16BE(0) === 0x5eed) {
            clearTimeout(t);
            resolve(m);
          }
        });
        client.send(query('web1.storm.internal', 'A', { id: 0x5eed }), port, '127.0.0.1');
      });
      expect(answerData(decode(after)), `seed ${seed}`).toEqual(['10.77.0.10']);
      expect(stats.udp, `seed ${seed}`).toBeGreaterThan(PACKETS * 0.99);
      expect(errors.slice(0, 3), `seed ${seed}`).toEqual([]);
      expect(stats.internalErrors, `seed ${seed}`).toBe(0);
      expect(stats.dropped + stats.rcodes.FORMERR, `seed ${seed}`).toBeGreaterThan(PACKETS * 0.2);
      expect(answers).toBeGreaterThan(PACKETS * 0.5);
      expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024);
    } finally {
      await server.close();
      await new Promise<void>((r) => client.close(() => r()));
    }
  }, 60_000);
});
