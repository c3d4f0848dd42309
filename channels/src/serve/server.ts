/**
 * `storm-channel serve`: a static file server for a channel directory. Streams files (never reads
 * one whole), answers single byte ranges, strong ETags, Last-Modified and the conditionals a
 * resuming downloader needs, and serves nothing outside the directory.
 *
 * @example
 * const srv = await startChannelServer({ dir: 'build/channel', port: 0, onRequest: (e) => seen.push(e.range) });
 * await fetch(`${srv.url}channel.xml`);
 * await srv.close();
 */
import { constants, type Stats } from 'node:fs';
import { open, realpath, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, extname, join, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ChanErr } from '../errors.js';
import { httpDateSeconds, ifRangeHolds, noneMatch, parseRange, strongEtag, strongMatch } from './http-semantics.js';

/** One answered request, reported when its response ends (or the client goes away). */
export interface RequestLogEntry {
  readonly method: string;
  /** The request target as received. */
  readonly url: string;
  readonly status: number;
  /** The Range header the server saw, if any. */
  readonly range?: string;
  readonly ifRange?: string;
  /** File bytes the response was to carry (0 for HEAD, 304 and errors). */
  readonly bytes: number;
  /** False when the client went away before the response finished. */
  readonly completed: boolean;
  readonly remoteAddress: string;
}

export interface ChannelServerOptions {
  readonly dir: string;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0 (any free port). */
  readonly port?: number;
  readonly onRequest?: (entry: RequestLogEntry) => void;
}

export interface ChannelServer {
  /** Base URL with a trailing slash, e.g. `http://127.0.0.1:41234/`. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

const IMMUTABLE_FOLDERS = ['layers', 'boot'];

export async function startChannelServer(opts: ChannelServerOptions): Promise<ChannelServer> {
  const root = await realpath(opts.dir).catch((err: Error) => {
    throw ChanErr.CHAN_ERR_SERVE_DIR(`${opts.dir}: ${err.message}`, { cause: err });
  });
  if (!(await stat(root)).isDirectory()) throw ChanErr.CHAN_ERR_SERVE_DIR(`${opts.dir} is not a directory`);
  const server = createServer((req, res) => {
    const started = { bytes: 0 };
    res.on('close', () => opts.onRequest?.(logEntry(req, res, started.bytes)));
    handle(root, req, res, started).catch(() => {
      if (!res.headersSent) plain(res, 500, 'internal error');
      else res.destroy();
    });
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(root: string, req: IncomingMessage, res: ServerResponse, sent: { bytes: number }): Promise<void> {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    return plain(res, 405, 'method not allowed');
  }
  const target = req.url ?? '';
  if (target.length > 4096) return plain(res, 414, 'URI too long');
  const segments = pathSegments(target);
  if (segments === 'bad') return plain(res, 400, 'bad request path');
  const file = segments && (await resolveInside(root, segments));
  if (!file) return plain(res, 404, 'not found');

  // O_NOFOLLOW: the resolved path is symlink-free; refuse it if one was swapped in since.
  const fh = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW).catch(() => undefined);
  if (!fh) return plain(res, 404, 'not found');
  let handedOff = false;
  try {
    const st = await fh.stat({ bigint: true });
    if (!st.isFile()) return plain(res, 404, 'not found');
    const size = Number(st.size);
    const etag = strongEtag(st.size, st.mtimeNs, st.ino);
    const lastModified = new Date(Number(st.mtimeMs)).toUTCString();
    res.setHeader('ETag', etag);
    res.setHeader('Last-Modified', lastModified);
    res.setHeader('Accept-Ranges', 'bytes');
    res.setHeader('Cache-Control', IMMUTABLE_FOLDERS.includes(segments[0] ?? '') ? 'public, max-age=31536000, immutable' : 'no-cache');
    const mtime = Math.floor(Number(st.mtimeMs) / 1000);

    const h = req.headers;
    const ifMatch = h['if-match'];
    const ius = h['if-unmodified-since'];
    if (
      (ifMatch !== undefined && !strongMatch(ifMatch, etag)) ||
      (ifMatch === undefined && ius !== undefined && mtime > (httpDateSeconds(ius) ?? Infinity))
    ) {
      return plain(res, 412, 'precondition failed');
    }
    const inm = h['if-none-match'];
    const ims = h['if-modified-since'];
    if (
      (inm !== undefined && noneMatch(inm, etag)) ||
      (inm === undefined && ims !== undefined && mtime <= (httpDateSeconds(ims) ?? -Infinity))
    ) {
      res.statusCode = 304;
      res.end();
      return;
    }

    const ifRange = header(req, 'if-range');
    const range = ifRangeHolds(ifRange, etag, lastModified) ? parseRange(header(req, 'range'), size) : { kind: 'full' as const };
    if (range.kind === 'unsatisfiable') {
      res.setHeader('Content-Range', `bytes */${size}`);
      return plain(res, 416, 'range not satisfiable');
    }
    const start = range.kind === 'partial' ? range.start : 0;
    const end = range.kind === 'partial' ? range.end : size - 1;
    res.statusCode = range.kind === 'partial' ? 206 : 200;
    if (range.kind === 'partial') res.setHeader('Content-Range', `bytes ${start}-${end}/${size}`);
    res.setHeader('Content-Type', contentType(file));
    res.setHeader('Content-Length', String(end - start + 1));
    if (req.method === 'HEAD' || size === 0) {
      res.end();
      return;
    }
    sent.bytes = end - start + 1;
    handedOff = true;
    await pipeline(fh.createReadStream({ start, end, autoClose: true, highWaterMark: 1 << 20 }), res).catch(() => undefined); // client went away
  } finally {
    if (!handedOff) await fh.close();
  }
}

/** Decoded path segments; undefined for names never served (dot-files, `..`, empty), 'bad' for undecodable ones. */
function pathSegments(target: string): string[] | undefined | 'bad' {
  if (!target.startsWith('/')) return 'bad';
  const path = target.split(/[?#]/, 1)[0] as string;
  const segments: string[] = [];
  for (const raw of path.slice(1).split('/')) {
    let s: string;
    try {
      s = decodeURIComponent(raw);
    } catch {
      return 'bad';
    }
    // Dot-files cover `.`, `..` and the build's temp files; encoded separators never name a file.
    if (s === '' || s.startsWith('.') || /[/\\\0]/.test(s)) return undefined;
    segments.push(s);
  }
  return segments;
}

/** The real path of `segments` under `root`, or undefined when it is missing or resolves outside. */
async function resolveInside(root: string, segments: readonly string[]): Promise<string | undefined> {
  const real = await realpath(join(root, ...segments)).catch(() => undefined);
  if (!real?.startsWith(root.endsWith(sep) ? root : root + sep)) return undefined;
  const st: Stats | undefined = await stat(real).catch(() => undefined);
  return st?.isFile() ? real : undefined;
}

function contentType(file: string): string {
  if (basename(file) === 'channel.xml') return 'application/rss+xml; charset=utf-8';
  switch (extname(file)) {
    case '.xml':
      return 'application/xml; charset=utf-8';
    case '.json':
      return 'application/json; charset=utf-8';
    case '.pub':
    case '.txt':
    case '.md':
      return 'text/plain; charset=utf-8';
    default:
      return 'application/octet-stream';
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function plain(res: ServerResponse, status: number, message: string): void {
  const body = `${message}\n`;
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('Content-Length', String(Buffer.byteLength(body)));
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

function logEntry(req: IncomingMessage, res: ServerResponse, bytes: number): RequestLogEntry {
  const range = header(req, 'range');
  const ifRange = header(req, 'if-range');
  return {
    method: req.method ?? '',
    url: req.url ?? '',
    status: res.statusCode,
    ...(range === undefined ? {} : { range }),
    ...(ifRange === undefined ? {} : { ifRange }),
    bytes,
    completed: res.writableFinished,
    remoteAddress: req.socket.remoteAddress ?? '',
  };
}

/** One access-log line: `127.0.0.1 "GET /channel.xml" 206 range="bytes=0-99" 100`. */
export function formatLogEntry(e: RequestLogEntry): string {
  const extra = [
    e.range === undefined ? '' : ` range="${e.range}"`,
    e.ifRange === undefined ? '' : ` if-range=${JSON.stringify(e.ifRange)}`,
    e.completed ? '' : ' aborted',
  ].join('');
  return `${e.remoteAddress} "${e.method} ${e.url}" ${e.status}${extra} ${e.bytes}`;
}
