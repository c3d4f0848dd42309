/**
 * Outbound HTTP for outside input (feeds, descriptors, layers): http and https only, every address
 * checked against the AddressPolicy at connect time (the vetted address is the one dialled, so DNS
 * rebinding cannot slip past), a bounded number of redirects, a deadline for the response head and
 * an idle timeout for the body.
 *
 * @example
 * const res = await safeRequest('https://channel.example/channel.xml', { policy, timeoutMs: 10_000 });
 * const body = await readCapped(res.body, 4 * 1024 * 1024);
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { urlHost } from '../../../common/url-host.js';
import { MgrErr } from '../errors.js';
import type { AddressPolicy } from './address-policy.js';

export interface SafeRequestOptions {
  readonly policy: AddressPolicy;
  /** Deadline for connecting and receiving the response head; also the body's idle timeout. */
  readonly timeoutMs: number;
  readonly maxRedirects?: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly method?: 'GET' | 'HEAD';
  readonly signal?: AbortSignal;
}

export interface SafeResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** The URL that answered, after redirects. */
  readonly url: string;
  readonly body: IncomingMessage;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** A lookup that resolves every address of the host and refuses the host if any is denied. */
function vettedLookup(policy: AddressPolicy): LookupFunction {
  return (hostname, options, callback) => {
    const done = (err: Error | null, address = '', family = 0) => {
      if (!options.all) return callback(err, address, family);
      // Node types the callback for one address; with `all` (which net asks for) it takes the list.
      const all = callback as unknown as (e: Error | null, a: { address: string; family: number }[]) => void;
      all(err, err ? [] : [{ address, family }]);
    };
    dnsLookup(hostname, { all: true, verbatim: true }).then(
      (addresses) => {
        if (addresses.length === 0) return done(MgrErr.MGR_ERR_FETCH_FAILED(`${hostname} has no address`));
        for (const a of addresses) {
          const verdict = policy.check(a.address);
          if (!verdict.allowed) return done(MgrErr.MGR_ERR_FETCH_REFUSED(`${hostname}: ${verdict.reason}`));
        }
        const first = addresses[0]!;
        done(null, first.address, first.family);
      },
      (err: unknown) => done(MgrErr.MGR_ERR_FETCH_FAILED(`cannot resolve ${hostname}`, { cause: err })),
    );
  };
}

/** Checks scheme and (for IP literals) address before any connection is made. */
export function checkUrl(raw: string, policy: AddressPolicy): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw MgrErr.MGR_ERR_FETCH_REFUSED(`not a URL: ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw MgrErr.MGR_ERR_FETCH_REFUSED(`only http and https URLs are fetched, not ${url.protocol}`);
  if (url.username || url.password) throw MgrErr.MGR_ERR_FETCH_REFUSED('URLs with credentials are not fetched');
  const host = urlHost(url);
  if (isIP(host)) {
    const verdict = policy.check(host);
    if (!verdict.allowed) throw MgrErr.MGR_ERR_FETCH_REFUSED(verdict.reason);
  }
  return url;
}

function requestOnce(url: URL, opts: SafeRequestOptions): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const mod = url.protocol === 'https:' ? https : http;
    const req = mod.request(url, {
      method: opts.method ?? 'GET',
      headers: { 'user-agent': 'storm-manager', ...opts.headers },
      lookup: vettedLookup(opts.policy),
      timeout: opts.timeoutMs,
      signal: opts.signal,
    });
    const deadline = setTimeout(
      () => req.destroy(MgrErr.MGR_ERR_FETCH_TIMEOUT(`${url.href} (no response within ${opts.timeoutMs} ms)`)),
      opts.timeoutMs,
    );
    req.on('timeout', () => req.destroy(MgrErr.MGR_ERR_FETCH_TIMEOUT(`${url.href} (idle ${opts.timeoutMs} ms)`)));
    req.on('error', (err) => {
      clearTimeout(deadline);
      reject(
        err instanceof Error && 'code' in err && typeof err.code === 'string' && err.code.startsWith('MGR_ERR_')
          ? err
          : MgrErr.MGR_ERR_FETCH_FAILED(`${url.href}: ${err.message}`, { cause: err }),
      );
    });
    req.on('response', (res) => {
      clearTimeout(deadline);
      // The socket's idle timeout keeps guarding the body.
      resolve(res);
    });
    req.end();
  });
}

/** Sends the request, following up to `maxRedirects` (default 5) redirects, each re-checked. */
export async function safeRequest(raw: string, opts: SafeRequestOptions): Promise<SafeResponse> {
  let url = checkUrl(raw, opts.policy);
  const maxRedirects = opts.maxRedirects ?? 5;
  for (let hop = 0; ; hop++) {
    const res = await requestOnce(url, opts);
    const status = res.statusCode ?? 0;
    if (!REDIRECTS.has(status)) return { status, headers: res.headers, url: url.href, body: res };
    res.resume();
    const location = res.headers.location;
    if (!location) throw MgrErr.MGR_ERR_FETCH_FAILED(`${url.href}: redirect ${status} without Location`);
    if (hop >= maxRedirects) throw MgrErr.MGR_ERR_FETCH_REFUSED(`${raw}: more than ${maxRedirects} redirects`);
    url = checkUrl(new URL(location, url).href, opts.policy);
  }
}

/** Reads a body into memory, failing as soon as it passes `maxBytes` (the rest is never read). */
export async function readCapped(body: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(body.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    body.destroy();
    throw MgrErr.MGR_ERR_FETCH_TOO_LARGE(`${declared} bytes declared, limit ${maxBytes}`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > maxBytes) {
      body.destroy();
      throw MgrErr.MGR_ERR_FETCH_TOO_LARGE(`more than ${maxBytes} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

/** GET into memory with a byte cap; non-2xx statuses are errors naming the URL. */
export async function fetchCapped(
  raw: string,
  maxBytes: number,
  opts: SafeRequestOptions,
): Promise<{ body: Buffer; headers: IncomingHttpHeaders; status: number; url: string }> {
  const res = await safeRequest(raw, opts);
  if (res.status === 304) {
    res.body.resume();
    return { body: Buffer.alloc(0), headers: res.headers, status: 304, url: res.url };
  }
  if (res.status < 200 || res.status >= 300) {
    res.body.resume();
    throw MgrErr.MGR_ERR_FETCH_FAILED(`${res.url} answered ${res.status}`);
  }
  return { body: await readCapped(res.body, maxBytes), headers: res.headers, status: res.status, url: res.url };
}
