import { PassThrough } from 'node:stream';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { DebugRequestLog, formatLogLine, loggerOptions } from './log-format.js';

const at = new Date(2026, 11, 6, 19, 50, 11).getTime();

describe('formatLogLine', () => {
  it('makes one readable line of a pino entry', () => {
    const line = JSON.stringify({
      level: 40,
      time: at,
      pid: 1,
      hostname: 'vm',
      msg: 'heartbeat failed',
      failures: 2,
      reason: 'connect ECONNREFUSED 127.0.0.1:1',
    });
    expect(formatLogLine(line)).toBe('19:50:11 WARN  heartbeat failed failures=2 reason="connect ECONNREFUSED 127.0.0.1:1"');
  });

  it('shows an error by its message and objects compactly', () => {
    const line = JSON.stringify({
      level: 50,
      time: at,
      msg: 'launch failed',
      err: { type: 'Error', message: 'no host', stack: 'Error: no host\n at x' },
      req: { method: 'GET' },
    });
    expect(formatLogLine(line)).toBe('19:50:11 ERROR launch failed err="no host" req={"method":"GET"}');
  });

  it('leaves a line that is not JSON as it is', () => {
    expect(formatLogLine('stormd: listening')).toBe('stormd: listening');
  });
});

describe('loggerOptions with fastify', () => {
  async function logged(format: 'text' | 'json'): Promise<string[]> {
    const out = new PassThrough();
    const lines: string[] = [];
    out.on('data', (b: Buffer) => lines.push(...b.toString().split('\n').filter(Boolean)));
    const app = Fastify({ logger: loggerOptions({ format, level: 'info', out }), logController: new DebugRequestLog() });
    app.get('/beat', async () => ({ ok: true }));
    app.log.info({ host: 'vm' }, 'host ready');
    await app.inject({ url: '/beat' });
    await app.close();
    await new Promise((r) => setImmediate(r));
    return lines;
  }

  it('text: readable lines, no JSON', async () => {
    const lines = await logged('text');
    expect(lines.some((l) => /^\d\d:\d\d:\d\d INFO {2}host ready host=vm$/.test(l))).toBe(true);
    expect(lines.some((l) => l.startsWith('{'))).toBe(false);
    // A request is no event at info: no line per heartbeat.
    expect(lines.some((l) => l.includes('request'))).toBe(false);
  });

  it('json: the machine format passes through', async () => {
    const lines = await logged('json');
    expect(lines.map((l) => JSON.parse(l) as { msg: string }).some((e) => e.msg === 'host ready')).toBe(true);
  });
});
