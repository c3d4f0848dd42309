/**
 * One HTTPS request with explicit TLS options (Node's fetch takes none): stormd's only way out,
 * to the manager. Without an `agent`, a connection of its own; with a keep-alive agent, a pooled
 * one, which Node's agent keys on the TLS options (CA, certificate, key, CRL, servername), so each
 * request still goes out with exactly the options it was given.
 *
 * @example
 * const res = await httpsRequest(new URL('https://m:8443/api/v1/pki/crl'), tlsOptions, { method: 'GET' });
 * const pem = (await readBody(res.body, 1 << 20)).toString();
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { type Agent, request } from 'node:https';
import type { ConnectionOptions } from 'node:tls';
import { urlHost } from '../../../common/url-host.js';

export interface HttpsRequestOptions {
  readonly method: 'GET' | 'POST' | 'PUT';
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Buffer;
  /** Idle time (no bytes either way) after which the request fails. */
  readonly timeoutMs?: number;
  /** Pooled, kept-alive connections (ManagerClient's); a fresh connection per request when absent. */
  readonly agent?: Agent;
}

export interface HttpsResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: IncomingMessage;
}

export function httpsRequest(url: URL, tls: ConnectionOptions, opts: HttpsRequestOptions): Promise<HttpsResponse> {
  if (url.protocol !== 'https:') return Promise.reject(new Error(`${url.href}: only https URLs are allowed`));
  return new Promise((resolve, reject) => {
    const req = request(
      {
        ...tls,
        host: urlHost(url),
        port: url.port || 443,
        path: `${url.pathname}${url.search}`,
        method: opts.method,
        headers: { ...opts.headers, ...(opts.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(opts.body)) }) },
        agent: opts.agent ?? false,
      },
      (res) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res }),
    );
    req.setTimeout(opts.timeoutMs ?? 30_000, () =>
      req.destroy(new Error(`no answer from ${url.host} within ${opts.timeoutMs ?? 30_000} ms`)),
    );
    req.once('error', reject);
    req.end(opts.body);
  });
}

/** Reads a whole body, failing once it passes `maxBytes` (answers are outside input). */
export async function readBody(body: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) {
      body.destroy();
      throw new Error(`answer larger than ${maxBytes} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
