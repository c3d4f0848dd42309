import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { Forwarder } from './forwarder.js';
import { query } from './test-support/fixtures.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

async function socket(): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  closers.push(() => new Promise((r) => s.close(() => r())));
  return s;
}

describe('Forwarder', () => {
  it('accepts only the upstream’s reply with the right id and question', async () => {
    const upstream = await socket();
    const impostor = await socket();
    const fwd = new Forwarder({ host: '127.0.0.1', port: upstream.address().port }, 2000, 10);
    await fwd.start();
    closers.push(() => fwd.close());
    const seen = new Promise<{ msg: Buffer; from: RemoteInfo }>((r) => upstream.once('message', (msg, from) => r({ msg, from })));
    const answer = fwd.forward(query('example.org', 'A', { id: 5 }), { name: 'example.org', type: 1, klass: 1 });
    const { msg, from } = await seen;
    const reply = (name: string) => {
      const r = query(name, 'A', { id: msg.readUInt16BE(0) });
      r[2]! |= 0x80;
      return r;
    };
    impostor.send(reply('example.org'), from.port, '127.0.0.1'); // right id, wrong source port
    upstream.send(reply('example.net'), from.port, '127.0.0.1'); // right source, wrong question
    await new Promise((r) => setTimeout(r, 100));
    upstream.send(reply('EXAMPLE.org'), from.port, '127.0.0.1');
    const got = await answer;
    expect(got?.readUInt16BE(0)).toBe(5); // the client's id restored
    expect(fwd.counters).toMatchObject({ forwarded: 1, answered: 1, rejected: 2 });
  });

  it('bounds the queries in flight', async () => {
    const upstream = await socket();
    const fwd = new Forwarder({ host: '127.0.0.1', port: upstream.address().port }, 100, 2);
    await fwd.start();
    closers.push(() => fwd.close());
    const q = { name: 'example.org', type: 1, klass: 1 };
    const all = await Promise.all([0, 1, 2].map(() => fwd.forward(query('example.org', 'A'), q)));
    expect(all).toEqual([undefined, undefined, undefined]);
    expect(fwd.counters).toMatchObject({ forwarded: 2, overloaded: 1, timeouts: 2 });
  });
});
