import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pkiFixture } from '../../../trust/test-support/fixtures.js';
import { API_LIMITS, boundListener, fastifyLimitOptions, httpsLimitOptions, type ListenerLimits } from './listener-limits.js';

const LIMITS: ListenerLimits = {
  handshakeTimeoutMs: 400,
  headersTimeoutMs: 400,
  requestTimeoutMs: 800,
  idleTimeoutMs: 500,
  maxConnections: 100,
  maxPerSource: 3,
};
let app: FastifyInstance;
let port: number;
let ca: string;
const sockets: Socket[] = [];

beforeAll(async () => {
  const f = await pkiFixture(1);
  ca = f.ca.certPem;
  const leaf = f.ca.issueServerCertificate({ publicKeyPem: f.keys[0]!.publicKeyPem, names: ['127.0.0.1'] });
  app = Fastify({
    https: { cert: leaf.certPem, key: f.keys[0]!.privateKeyPem, ...httpsLimitOptions(LIMITS) },
    ...fastifyLimitOptions(LIMITS),
  });
  boundListener(app.server, LIMITS);
  // Slower to answer than the idle timeout: a request in work is never cut for that.
  app.get('/slow', async () => {
    await new Promise((r) => setTimeout(r, 1200));
    return { ok: true };
  });
  app.get('/big', async (_req, reply) => reply.type('application/octet-stream').send(Buffer.alloc(64 * 1024 * 1024)));
  app.post('/echo', async (req) => req.body);
  await app.listen({ host: '127.0.0.1', port: 0 });
  port = (app.server.address() as { port: number }).port;
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await app.close();
});

/** A TLS connection, optionally from another loopback address. */
function tls(localAddress = '127.0.0.1'): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const raw = tcpConnect({ host: '127.0.0.1', port, localAddress });
    const s = tlsConnect({ socket: raw, host: '127.0.0.1', ca }, () => resolve(s));
    raw.once('error', reject);
    sockets.push(raw, s);
    s.once('error', reject);
  });
}

/** How long until the server closes `s` (Infinity past `waitMs`), and what it said before. */
function closedAfter(s: Socket, waitMs = 3000): Promise<{ ms: number; said: string }> {
  const t0 = Date.now();
  let said = '';
  s.on('data', (d: Buffer) => (said += d.toString('latin1')));
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ ms: Infinity, said }), waitMs);
    s.once('close', () => {
      clearTimeout(timer);
      resolve({ ms: Date.now() - t0, said });
    });
    s.on('error', () => undefined);
  });
}

describe('listener limits', () => {
  it('closes a connection that never finishes its TLS handshake', async () => {
    const raw = tcpConnect(port, '127.0.0.1');
    sockets.push(raw);
    expect((await closedAfter(raw)).ms).toBeLessThan(2000);
  });

  it('closes a TLS connection that sends no request', async () => {
    expect((await closedAfter(await tls())).ms).toBeLessThan(2000);
  });

  it('answers 408 to headers that do not arrive whole in time, though bytes keep trickling', async () => {
    const s = await tls();
    s.write('GET /slow HTTP/1.1\r\nHost: x\r\n');
    const drip = setInterval(() => s.writable && s.write('X-A: b\r\n'), 100);
    const r = await closedAfter(s);
    clearInterval(drip);
    expect([r.ms < 2500, r.said.split('\r\n')[0]]).toEqual([true, 'HTTP/1.1 408 Request Timeout']);
  });

  it('answers 408 to a body that does not arrive whole in time, though bytes keep trickling', async () => {
    const s = await tls();
    s.write('POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n');
    const drip = setInterval(() => s.writable && s.write(' '), 100);
    const r = await closedAfter(s);
    clearInterval(drip);
    expect([r.ms < 2500, r.said.split('\r\n')[0]]).toEqual([true, 'HTTP/1.1 408 Request Timeout']);
  });

  it('lets a request in work take longer than the idle timeout, then closes the idle connection', async () => {
    const s = await tls();
    const closed = closedAfter(s, 4000);
    s.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n');
    const r = await closed;
    expect(r.said.split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
    expect(r.ms).toBeGreaterThan(1200);
    expect(r.ms).toBeLessThan(3000);
  });

  it('closes a connection whose client stops reading its answer', async () => {
    const s = await tls();
    s.pause();
    s.write('GET /big HTTP/1.1\r\nHost: x\r\n\r\n');
    // A paused socket does not see the close: read again after the idle timeout, and count what comes.
    await new Promise((r) => setTimeout(r, 1500));
    let got = 0;
    s.on('data', (d: Buffer) => (got += d.length));
    const closed = closedAfter(s);
    s.resume();
    const r = await closed;
    expect([r.ms < 3000, got < 64 * 1024 * 1024]).toEqual([true, true]);
  });

  it(`holds at most ${LIMITS.maxPerSource} connections from one address`, async () => {
    const mine = await Promise.all(Array.from({ length: LIMITS.maxPerSource }, () => tls('127.0.0.3')));
    await expect(tls('127.0.0.3')).rejects.toThrow();
    const other = await tls('127.0.0.4');
    other.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n');
    expect((await closedAfter(other)).said.split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
    for (const s of mine) s.destroy();
  });
});

describe('listener limits with no whole-request deadline (the API: uploads of gigabytes)', () => {
  // The API's own setting, with this file's short idle timeout.
  const UPLOADS: ListenerLimits = { ...LIMITS, requestTimeoutMs: API_LIMITS.requestTimeoutMs };
  let uploads: FastifyInstance;
  let uploadPort: number;
  beforeAll(async () => {
    const f = await pkiFixture(1);
    const leaf = f.ca.issueServerCertificate({ publicKeyPem: f.keys[0]!.publicKeyPem, names: ['127.0.0.1'] });
    ca = f.ca.certPem;
    uploads = Fastify({
      https: { cert: leaf.certPem, key: f.keys[0]!.privateKeyPem, ...httpsLimitOptions(UPLOADS) },
      ...fastifyLimitOptions(UPLOADS),
    });
    boundListener(uploads.server, UPLOADS);
    uploads.post('/echo', async (req) => req.body);
    await uploads.listen({ host: '127.0.0.1', port: 0 });
    uploadPort = (uploads.server.address() as { port: number }).port;
  });
  afterAll(() => uploads.close());

  const upload = async (): Promise<TLSSocket> => {
    const s = await new Promise<TLSSocket>((resolve, reject) => {
      const c = tlsConnect({ host: '127.0.0.1', port: uploadPort, ca }, () => resolve(c));
      c.once('error', reject);
    });
    sockets.push(s);
    s.write('POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 30\r\n\r\n"');
    return s;
  };

  it('takes a body that keeps arriving for longer than any deadline of the other listeners', async () => {
    const s = await upload();
    const closed = closedAfter(s, 6000);
    let sent = 1;
    const drip = setInterval(() => {
      if (!s.writable) return;
      sent += 1;
      s.write(sent < 30 ? 'x' : '"');
      if (sent >= 30) clearInterval(drip);
    }, 100);
    const r = await closed;
    clearInterval(drip);
    expect(r.said.split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
    expect(r.said).toContain(`\r\n\r\n${'x'.repeat(28)}`);
  });

  it('closes a connection whose body stops arriving for the idle timeout', async () => {
    const s = await upload();
    s.write('xx');
    const r = await closedAfter(s);
    expect(r.ms).toBeLessThan(2500);
    expect(r.said).not.toContain('200 OK');
  });
});
