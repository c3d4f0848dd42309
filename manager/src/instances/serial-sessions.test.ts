import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import type { SerialNotice } from '../../../common/serial-attach.js';
import { SerialSessions, type SerialViewer } from './serial-sessions.js';

// The host's side is a real ws server on loopback: what each connection received, and a way to print.
interface HostSide {
  readonly sockets: WebSocket[];
  readonly received: string[];
  readonly closed: number[];
}

let server: WebSocketServer;
let host: HostSide;
let sessions: SerialSessions;

beforeEach(async () => {
  host = { sockets: [], received: [], closed: [] };
  server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  server.on('connection', (ws) => {
    const n = host.sockets.push(ws) - 1;
    ws.on('message', (data: Buffer) => host.received.push(data.toString()));
    ws.on('close', () => host.closed.push(n));
  });
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  sessions = new SerialSessions({
    open: (id) =>
      new Promise((resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/${id}`);
        ws.once('open', () => resolve(ws));
        ws.once('error', reject);
      }),
  });
});

afterEach(async () => {
  await sessions.closeAll('the test ends');
  await new Promise((resolve) => server.close(resolve));
});

function viewer(principal: string) {
  const v = {
    principal,
    via: 'token' as const,
    out: '',
    notices: [] as SerialNotice[],
    closedWith: undefined as { code: number; reason: string } | undefined,
    send: (bytes: Buffer) => void (v.out += bytes.toString()),
    notice: (n: SerialNotice) => void v.notices.push(n),
    close: (code: number, reason: string) => void (v.closedWith = { code, reason }),
  } satisfies SerialViewer & Record<string, unknown>;
  return v;
}

const until = async (ok: () => boolean) => {
  for (let i = 0; i < 100 && !ok(); i++) await new Promise((r) => setTimeout(r, 20));
  expect(ok()).toBe(true);
};

describe('SerialSessions', () => {
  it('shares one host connection: everyone sees the output, only the writer types, a takeover is announced', async () => {
    const a = viewer('alice');
    const b = viewer('bob');
    const ha = await sessions.join('i1', a, { takeover: false });
    const hb = await sessions.join('i1', b, { takeover: false });
    expect(host.sockets).toHaveLength(1);
    expect(a.notices[0]).toMatchObject({ type: 'attached', role: 'writer', you: { principal: 'alice', client: 1 } });
    expect(b.notices[0]).toMatchObject({ type: 'attached', role: 'reader', writer: { principal: 'alice' } });

    hb.input(Buffer.from('from-reader'));
    ha.input(Buffer.from('from-writer'));
    await until(() => host.received.length > 0);
    host.sockets[0]!.send(Buffer.from('guest says hi'));
    await until(() => a.out === 'guest says hi' && b.out === 'guest says hi');
    expect(host.received).toEqual(['from-writer']);

    hb.takeover();
    expect(a.notices.at(-1)).toEqual({ type: 'writer', role: 'reader', writer: hb.peer, previous: ha.peer, reason: 'takeover' });
    expect(b.notices.at(-1)).toMatchObject({ type: 'writer', role: 'writer', reason: 'takeover' });
    ha.input(Buffer.from('old-writer'));
    hb.input(Buffer.from('new-writer'));
    await until(() => host.received.length === 2);
    expect(host.received).toEqual(['from-writer', 'new-writer']);
  });

  it('frees the seat when the writer leaves, seats the next newcomer, and closes the host connection after the last', async () => {
    const a = viewer('alice');
    const b = viewer('bob');
    const ha = await sessions.join('i2', a, { takeover: false });
    const hb = await sessions.join('i2', b, { takeover: false });
    ha.leave();
    expect(b.notices.at(-1)).toMatchObject({
      type: 'writer',
      role: 'reader',
      writer: null,
      previous: { principal: 'alice' },
      reason: 'left',
    });
    const c = viewer('carol');
    const hc = await sessions.join('i2', c, { takeover: false });
    expect(c.notices[0]).toMatchObject({ type: 'attached', role: 'writer' });
    expect(b.notices.at(-1)).toMatchObject({ type: 'writer', role: 'reader', writer: { principal: 'carol' }, reason: 'joined' });
    hb.leave();
    hc.leave();
    await until(() => host.closed.includes(0));
    // The next one opens a new connection, and writes.
    const d = viewer('dave');
    await sessions.join('i2', d, { takeover: false });
    expect(host.sockets).toHaveLength(2);
    expect(d.notices[0]).toMatchObject({ type: 'attached', role: 'writer', you: { client: 1 } });
  });

  it('ends everyone with the reason when the host closes the port, and opens afresh for the next', async () => {
    const a = viewer('alice');
    const b = viewer('bob');
    await sessions.join('i3', a, { takeover: false });
    await sessions.join('i3', b, { takeover: true });
    expect(a.notices.at(-1)).toMatchObject({ type: 'writer', role: 'reader', reason: 'takeover', writer: { principal: 'bob' } });
    host.sockets[0]!.close(4000, 'the guest serial port closed (the domain stopped)');
    await until(() => a.closedWith !== undefined && b.closedWith !== undefined);
    for (const v of [a, b]) {
      expect(v.notices.at(-1)).toEqual({ type: 'ended', reason: 'the guest serial port closed (the domain stopped)' });
      expect(v.closedWith).toEqual({ code: 4000, reason: 'the guest serial port closed (the domain stopped)' });
    }
    await sessions.join('i3', viewer('carol'), { takeover: false });
    expect(host.sockets).toHaveLength(2);
  });
});
