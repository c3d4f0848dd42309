/**
 * A rate-limited HTTP forward proxy for tests: slows a download enough to interrupt it at a chosen
 * point. Request headers (Range, If-Range) pass through untouched to the real server behind it.
 *
 * @example
 * const proxy = await startThrottleProxy(channel.baseUrl, 8 * 1024 * 1024); // 8 MiB/s
 * fetch(`${proxy.url}channel.xml`);
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Transform } from 'node:stream';

export interface ThrottleProxy {
  readonly url: string;
  close(): Promise<void>;
}

function throttle(bytesPerSecond: number): Transform {
  const started = Date.now();
  let sent = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      sent += chunk.length;
      const due = started + (sent / bytesPerSecond) * 1000;
      setTimeout(() => cb(null, chunk), Math.max(0, due - Date.now()));
    },
  });
}

export async function startThrottleProxy(target: string, bytesPerSecond: number): Promise<ThrottleProxy> {
  const base = new URL(target);
  const sockets = new Set<import('node:net').Socket>();
  const server = http.createServer((req, res) => {
    const upstream = http.request(
      new URL(req.url ?? '/', base),
      { method: req.method, headers: { ...req.headers, host: base.host } },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(throttle(bytesPerSecond)).pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
