/**
 * stormd's calls to its manager, over TLS verified against the STORM CA and the manager role,
 * presenting the host's certificate (mutual TLS). Only URLs on the manager's origin (from host.json) are dialled, so a
 * request naming another server cannot make the host fetch from it with its credentials.
 *
 * @example
 * const manager = new ManagerClient({ managerUrl: 'https://m:8443', caPem, certPem, keyPem });
 * const beat = await manager.postJson<HeartbeatResponse>('/api/v1/hosts/heartbeat', request);
 * const body = await manager.getStream('https://m:8443/api/v1/images/<sha>/blob'); // a Readable
 */
import { Agent } from 'node:https';
import type { Readable } from 'node:stream';
import { clientTlsOptions } from '../../../trust/index.js';
import { errorMessage } from '../../../common/errors.js';
import { urlHost } from '../../../common/url-host.js';
import { StormdErr } from '../errors.js';
import { httpsRequest, readBody, type HttpsResponse } from './https-request.js';

export interface ManagerClientOptions {
  readonly managerUrl: string;
  readonly caPem: string;
  /** The host's certificate and key; absent only before the join has produced them. */
  readonly certPem?: string;
  readonly keyPem?: string;
  readonly timeoutMs?: number;
}

const MAX_JSON_BYTES = 4 * 1024 * 1024;
/**
 * A kept-alive connection idle this long is closed by us: longer than the heartbeat's 10 s (so each
 * beat reuses the last one's TLS session instead of a handshake), shorter than the manager's idle
 * timeout (API_LIMITS.idleTimeoutMs, 60 s), so we never send on a socket the manager is closing.
 */
export const IDLE_SOCKET_MS = 30_000;

export class ManagerClient {
  readonly origin: string;
  private readonly opts: ManagerClientOptions;
  private identity: { certPem: string; keyPem: string } | undefined;
  /** Heartbeats and the other calls share kept-alive connections, not a TLS handshake (and a key load on each side) each. */
  private readonly agent = new Agent({ keepAlive: true, timeout: IDLE_SOCKET_MS });

  constructor(opts: ManagerClientOptions) {
    this.opts = opts;
    this.origin = new URL(opts.managerUrl).origin;
    if (opts.certPem && opts.keyPem) this.identity = { certPem: opts.certPem, keyPem: opts.keyPem };
  }

  /** Closes the kept-alive connections (idle ones never hold the process open: Node unrefs them). */
  close(): void {
    this.agent.destroy();
  }

  /** Presents this certificate from the next request on (after a renewal: the agent pools by certificate, so on a new connection). */
  setIdentity(identity: { certPem: string; keyPem: string }): void {
    this.identity = identity;
  }

  /** The URL, resolved against the manager; STORMD_ERR_URL_REFUSED unless it is on the manager's origin. */
  resolve(url: string): URL {
    let parsed: URL;
    try {
      parsed = new URL(url, this.origin);
    } catch {
      throw StormdErr.STORMD_ERR_URL_REFUSED(JSON.stringify(url));
    }
    if (parsed.origin !== this.origin || parsed.username || parsed.password)
      throw StormdErr.STORMD_ERR_URL_REFUSED(`${parsed.origin} is not ${this.origin}`);
    return parsed;
  }

  async postJson<T>(path: string, body: unknown): Promise<T> {
    const res = await this.post(path, body);
    await ensureOk(res, path);
    return this.json<T>(res, path);
  }

  /** POSTs JSON and hands back the raw answer, for callers that treat statuses themselves (join). */
  post(path: string, body: unknown): Promise<HttpsResponse> {
    return this.send(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
    });
  }

  /** The JSON body of an answer, bounded. */
  async json<T>(res: HttpsResponse, what: string): Promise<T> {
    return parseJson<T>(await this.read(res, what, MAX_JSON_BYTES), what);
  }

  async getText(path: string, maxBytes: number): Promise<string> {
    const res = await this.send(path, { method: 'GET' });
    await ensureOk(res, path);
    return (await this.read(res, path, maxBytes)).toString('utf8');
  }

  /** The body of a GET, for streaming; a declared Content-Length other than `expectedSize` fails early. */
  async getStream(url: string, expectedSize?: number): Promise<Readable> {
    const res = await this.send(url, { method: 'GET' });
    await ensureOk(res, url);
    const length = res.headers['content-length'];
    if (expectedSize !== undefined && length !== undefined && Number(length) !== expectedSize) {
      res.body.destroy();
      throw StormdErr.STORMD_ERR_LAYER_MISMATCH(`${url} is ${length} bytes, expected ${expectedSize}`);
    }
    return res.body;
  }

  private async send(url: string, opts: Parameters<typeof httpsRequest>[2]): Promise<HttpsResponse> {
    const target = this.resolve(url);
    const tls = clientTlsOptions({
      ca: this.opts.caPem,
      servername: urlHost(target),
      // Only the manager's certificates carry its role: a host holding the manager's name or address is refused.
      role: 'manager',
      ...(this.identity ? { cert: this.identity.certPem, key: this.identity.keyPem } : {}),
    });
    try {
      return await httpsRequest(target, tls, { timeoutMs: this.opts.timeoutMs ?? 30_000, agent: this.agent, ...opts });
    } catch (err) {
      throw StormdErr.STORMD_ERR_FETCH_FAILED(`${target.href}: ${tlsText(err)}`, { cause: err });
    }
  }

  private async read(res: HttpsResponse, what: string, maxBytes: number): Promise<Buffer> {
    try {
      return await readBody(res.body, maxBytes);
    } catch (err) {
      throw StormdErr.STORMD_ERR_FETCH_FAILED(`${what}: ${errorMessage(err)}`, { cause: err });
    }
  }
}

/** A TLS failure's code says more than its message (e.g. CERT_HAS_EXPIRED). */
export function tlsText(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const message = errorMessage(err);
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}

/** Non-2xx answers become STORMD_ERR_FETCH_FAILED carrying the manager's `{ code, message }` when it sent one. */
export async function ensureOk(res: HttpsResponse, what: string): Promise<void> {
  if (res.status >= 200 && res.status < 300) return;
  throw StormdErr.STORMD_ERR_FETCH_FAILED(`${what}: ${await describeError(res)}`, { details: { status: res.status } });
}

/** `HTTP 403 MGR_ERR_X: message`, from an error answer. */
export async function describeError(res: HttpsResponse): Promise<string> {
  const text = await readBody(res.body, 64 * 1024).then(
    (b) => b.toString('utf8'),
    () => '',
  );
  try {
    const body = JSON.parse(text) as { code?: unknown; message?: unknown };
    if (typeof body.code === 'string') return `HTTP ${res.status} ${body.code}: ${String(body.message ?? '')}`;
  } catch {
    // not JSON: fall through to the raw text
  }
  return `HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`;
}

function parseJson<T>(body: Buffer, what: string): T {
  try {
    return JSON.parse(body.toString('utf8')) as T;
  } catch (err) {
    throw StormdErr.STORMD_ERR_MANAGER_RESPONSE(`${what}: not JSON`, { cause: err });
  }
}
