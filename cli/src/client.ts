/**
 * The CLI's client of the manager API: bearer token, the manager's CA for https, JSON in and out,
 * API errors surfaced with their `{ code, message }`, and server-sent events as an async iterator.
 *
 * @example
 * const api = new ManagerClient({ url: 'https://127.0.0.1:8443', token, ca });
 * const { appliances } = await api.get<{ appliances: unknown[] }>('/appliances');
 * for await (const e of api.events(['pull'])) console.log(e.type, e.data);
 * const stream = await api.openEvents(['instance'], signal); // subscribed once this resolves
 */
import { createReadStream } from 'node:fs';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import WebSocket from 'ws';
import { parseAnswer } from '../../common/wire-json.js';
import { ApiError } from './errors.js';
import { managerTlsOptions, NotTheManagerError } from './manager-tls.js';

export { ApiError } from './errors.js';

export interface ClientOptions {
  readonly url: string;
  readonly token: string;
  /** PEM of the manager's CA, for https. */
  readonly ca?: string;
}

export interface ServerEvent {
  readonly id: string | undefined;
  readonly type: string;
  readonly data: Record<string, unknown>;
}

export class ManagerClient {
  private readonly base: URL;

  constructor(private readonly opts: ClientOptions) {
    this.base = new URL(opts.url.endsWith('/') ? opts.url : `${opts.url}/`);
  }

  private send(
    method: string,
    path: string,
    body?: unknown,
    accept = 'application/json',
    extra: Record<string, string> = {},
  ): Promise<IncomingMessage> {
    const url = new URL(`api/v1${path}`, this.base);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const mod = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = mod.request(url, {
        method,
        headers: {
          authorization: `Bearer ${this.opts.token}`,
          accept,
          ...extra,
          ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}),
        },
        ...(this.opts.ca ? managerTlsOptions(this.opts.ca) : {}),
      });
      req.on('response', resolve);
      req.on('error', (err: NodeJS.ErrnoException) => reject(connectionError(err, this.base.href)));
      req.end(payload);
    });
  }

  async request<T>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T> {
    return (await readJson(await this.send(method, path, body))) as T;
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('POST', path, body);
  }

  put<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('PUT', path, body);
  }

  patch<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PATCH', path, body);
  }

  delete<T>(path: string): Promise<T> {
    return this.request<T>('DELETE', path);
  }

  /** POSTs a file's bytes as `application/octet-stream`, streamed (a disk image: `storm image import`). */
  async upload<T>(path: string, file: string, size: number): Promise<T> {
    const url = new URL(`api/v1${path}`, this.base);
    const mod = url.protocol === 'https:' ? https : http;
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = mod.request(url, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${this.opts.token}`,
          accept: 'application/json',
          'content-type': 'application/octet-stream',
          'content-length': size,
        },
        ...(this.opts.ca ? managerTlsOptions(this.opts.ca) : {}),
      });
      req.on('response', resolve);
      req.on('error', (err: NodeJS.ErrnoException) => reject(connectionError(err, this.base.href)));
      createReadStream(file).on('error', reject).pipe(req);
    });
    return (await readJson(res)) as T;
  }

  /** A WebSocket on an API path (`/instances/web1/console/attach`). */
  webSocket(path: string): Promise<WebSocket> {
    return openWebSocket(new URL(`api/v1${path}`, this.base), this.opts.token, this.opts.ca, this.base.href);
  }

  /** Streams `/events` (optionally filtered by type prefixes) until `signal` aborts. */
  async *events(types: readonly string[] = [], signal?: AbortSignal): AsyncGenerator<ServerEvent> {
    yield* await this.openEvents(types, signal);
  }

  /**
   * Opens `/events` and resolves once the manager answered, that is once it has subscribed us: an
   * operation started after this cannot publish an event the stream misses. `lastEventId` resumes.
   */
  async openEvents(types: readonly string[] = [], signal?: AbortSignal, lastEventId?: string): Promise<AsyncGenerator<ServerEvent>> {
    const query = types.length ? `?types=${encodeURIComponent(types.join(','))}` : '';
    const res = await this.send(
      'GET',
      `/events${query}`,
      undefined,
      'text/event-stream',
      lastEventId ? { 'last-event-id': lastEventId } : {},
    );
    if ((res.statusCode ?? 0) >= 400) await readJson(res);
    if (signal?.aborted) res.destroy();
    else signal?.addEventListener('abort', () => res.destroy(), { once: true });
    return readEvents(res, signal);
  }
}

/** Opens a WebSocket on `url` with the token; the manager's refusal before the upgrade rejects as its ApiError. */
export function openWebSocket(url: URL, token: string, ca: string | undefined, base: string): Promise<WebSocket> {
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  const ws = new WebSocket(url, {
    headers: { authorization: `Bearer ${token}` },
    ...(ca ? managerTlsOptions(ca) : {}),
    perMessageDeflate: false,
    handshakeTimeout: 15_000,
  });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => {
      readJson(res).then(
        () =>
          reject(
            new ApiError(
              res.statusCode ?? 0,
              `HTTP_${res.statusCode}`,
              `the manager answered HTTP ${res.statusCode} instead of opening the WebSocket`,
            ),
          ),
        reject,
      );
      ws.terminate();
    });
    ws.once('error', (err: NodeJS.ErrnoException) => reject(connectionError(err, base)));
  });
}

/** A connection that failed before any answer: not the manager (its role), untrusted (its CA), or unreachable. */
function connectionError(err: NodeJS.ErrnoException, base: string): ApiError {
  if (err instanceof NotTheManagerError) {
    return new ApiError(
      0,
      'CLI_ERR_UNTRUSTED',
      `the server at ${base} is not the manager: ${err.message}; check --url (a host's stormd, or something in the manager's place)`,
    );
  }
  const untrusted = /certificate|SELF_SIGNED|UNABLE_TO_VERIFY/i.test(`${err.code ?? ''} ${err.message}`);
  return untrusted
    ? new ApiError(
        0,
        'CLI_ERR_UNTRUSTED',
        `the manager at ${base} presented a certificate this client does not trust (${err.message}); pass --ca with the manager's pki/ca.pem`,
      )
    : new ApiError(0, 'CLI_ERR_UNREACHABLE', `cannot reach the manager at ${base}: ${err.message}`);
}

/** The body as JSON; an error status throws the manager's `{ code, message }` as an ApiError. */
async function readJson(res: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  const { json, error } = parseAnswer(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'));
  if (error) throw new ApiError(error.status, error.code ?? `HTTP_${error.status}`, error.message);
  return json;
}

async function* readEvents(res: IncomingMessage, signal: AbortSignal | undefined): AsyncGenerator<ServerEvent> {
  // A multi-byte character may straddle two chunks: decode as a stream.
  res.setEncoding('utf8');
  let buffer = '';
  try {
    for await (const chunk of res) {
      buffer += chunk as string;
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = parseEventBlock(block);
        if (event) yield event;
      }
    }
  } catch (err) {
    if (!signal?.aborted) throw err;
  } finally {
    res.destroy();
  }
}

/** One SSE block → event; comments and retry-only blocks give nothing. */
export function parseEventBlock(block: string): ServerEvent | undefined {
  let id: string | undefined;
  let type = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue;
    const i = line.indexOf(':');
    const field = i < 0 ? line : line.slice(0, i);
    const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
    if (field === 'id') id = value;
    else if (field === 'event') type = value;
    else if (field === 'data') data.push(value);
  }
  if (data.length === 0) return undefined;
  try {
    return { id, type, data: JSON.parse(data.join('\n')) as Record<string, unknown> };
  } catch {
    return { id, type, data: { text: data.join('\n') } };
  }
}
