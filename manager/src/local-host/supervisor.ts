/**
 * Runs the local stormd as a child of the manager (the README's start command): restarts it with
 * backoff when it dies, relays its log into the manager's (one format, one stream), and stops it by
 * its pid on shutdown.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FastifyBaseLogger } from 'fastify';

export interface LocalHostOptions {
  readonly dataDir: string;
  readonly hypervisor: string;
  readonly log: FastifyBaseLogger;
  /** Extra stormd flags (later: --listen, --manager). */
  readonly extraArgs?: readonly string[];
}

/** The compiled stormd entry point beside this module in dist/. */
export const STORMD_ENTRY = fileURLToPath(new URL('../../../stormd/src/main.js', import.meta.url));

type Level = 'debug' | 'info' | 'warn' | 'error';
const PINO_LEVELS: Readonly<Record<number, Level>> = { 10: 'debug', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'error' };

/**
 * One line of stormd's output relayed at its own level: its JSON log entries keep their fields,
 * its plain lines (`stormd: listening …`) are said as they are.
 */
export function relayLine(log: FastifyBaseLogger, line: string, plainLevel: Level): void {
  let entry: Record<string, unknown> | undefined;
  try {
    const parsed: unknown = JSON.parse(line);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) entry = parsed as Record<string, unknown>;
  } catch {
    entry = undefined;
  }
  if (!entry) {
    log[plainLevel](line);
    return;
  }
  const { level, msg, time: _time, pid: _pid, hostname: _hostname, v: _v, ...fields } = entry;
  log[PINO_LEVELS[Number(level)] ?? 'info'](fields, `stormd: ${String(msg ?? '')}`);
}

export class LocalHostSupervisor {
  private child: ChildProcess | undefined;
  private stopping = false;
  private restarts = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: LocalHostOptions) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): void {
    const args = [
      STORMD_ENTRY,
      '--data',
      this.opts.dataDir,
      '--hypervisor',
      this.opts.hypervisor,
      '--log-format',
      'json',
      ...(this.opts.extraArgs ?? []),
    ];
    // Its own process group: a terminal's Ctrl-C reaches the manager, which stops it in order.
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.child = child;
    const forward = (stream: NodeJS.ReadableStream | null, level: Level) => {
      let pending = '';
      stream?.on('data', (chunk: Buffer) => {
        const lines = (pending + chunk.toString()).split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) if (line) relayLine(this.opts.log, line, level);
      });
    };
    forward(child.stdout, 'info');
    forward(child.stderr, 'warn');
    child.on('exit', (code, signal) => {
      if (this.stopping) return;
      const delay = Math.min(30_000, 500 * 2 ** Math.min(this.restarts++, 6));
      this.opts.log.error({ code, signal }, `local stormd exited; restarting in ${delay} ms`);
      this.timer = setTimeout(() => this.start(), delay);
    });
  }

  /** SIGTERM to the child's pid, SIGKILL after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(kill);
  }
}
