/**
 * Logs for a person or for a machine. Both binaries log through pino (fastify's logger), which
 * writes one JSON object per line; `text` (the default) turns each into one readable line,
 * `json` passes them through for log shippers.
 *
 * @example
 * const app = Fastify({ logger: loggerOptions({ format: 'text', level: 'info' }) });
 * // 19:50:11 INFO  local host enrolled (/var/lib/storm/local-host)
 * // 19:50:12 WARN  heartbeat failed failures=2 retryInMs=4000 reason="connect ECONNREFUSED"
 */
import { Writable } from 'node:stream';
import { type FastifyReply, type FastifyRequest, LogController } from 'fastify';

export type LogFormat = 'text' | 'json';
export const LOG_FORMATS: readonly LogFormat[] = ['text', 'json'];

const LEVELS: Readonly<Record<number, string>> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
/** pino's own bookkeeping, said by the line's layout or of no use to a reader. */
const HIDDEN = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'v']);

/** One pino JSON line as one readable line; a line that is not JSON comes back unchanged. */
export function formatLogLine(line: string): string {
  let entry: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(line);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return line;
    entry = parsed as Record<string, unknown>;
  } catch {
    return line;
  }
  const time = typeof entry.time === 'number' ? new Date(entry.time) : new Date();
  const clock = `${pad(time.getHours())}:${pad(time.getMinutes())}:${pad(time.getSeconds())}`;
  const level = (LEVELS[Number(entry.level)] ?? String(entry.level ?? '')).padEnd(5);
  const fields = Object.entries(entry)
    .filter(([key, value]) => !HIDDEN.has(key) && value !== undefined)
    .map(([key, value]) => `${key}=${fieldValue(key, value)}`);
  return [clock, level, String(entry.msg ?? ''), ...fields].join(' ').trimEnd();
}

/** A writable that pino writes JSON lines to and that writes readable lines to `out`. */
export function textLogStream(out: NodeJS.WritableStream): Writable {
  let pending = '';
  return new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (line) out.write(`${formatLogLine(line)}\n`);
      done();
    },
    final(done) {
      if (pending) out.write(`${formatLogLine(pending)}\n`);
      done();
    },
  });
}

/** fastify's `logger` option for a format, level and destination (default stdout). */
export function loggerOptions(opts: { format: LogFormat; level: string; out?: NodeJS.WritableStream }): {
  level: string;
  stream: NodeJS.WritableStream;
} {
  const out = opts.out ?? process.stdout;
  return { level: opts.level, stream: opts.format === 'json' ? out : textLogStream(out) };
}

/**
 * Per-request lines at debug, not info: a fleet's heartbeats and a console's polling are not events
 * a person reads. Failed requests still log at error.
 */
export class DebugRequestLog extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    request.log.debug({ method: request.method, url: request.url }, 'incoming request');
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error) reply.log.error({ err: error, status: reply.statusCode, url: request.url }, 'request errored');
    else reply.log.debug({ status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request completed');
  }
}

function pad(n: number): string {
  return n.toString().padStart(2, '0');
}

function fieldValue(key: string, value: unknown): string {
  // An error reads as its message; its stack only matters to a developer, who asks for json.
  if (key === 'err' && value && typeof value === 'object' && 'message' in value)
    return quote(String((value as { message: unknown }).message));
  if (typeof value === 'string') return quote(value);
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

function quote(s: string): string {
  return /^[^\s"=]+$/.test(s) ? s : JSON.stringify(s);
}
