/**
 * Runs the local stormd as a child of the manager (the README's start command): restarts it with
 * backoff when it dies, forwards its output, and stops it by its pid on shutdown.
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
    const args = [STORMD_ENTRY, '--data', this.opts.dataDir, '--hypervisor', this.opts.hypervisor, ...(this.opts.extraArgs ?? [])];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const forward = (stream: NodeJS.ReadableStream | null, level: 'info' | 'warn') =>
      stream?.on('data', (chunk: Buffer) => {
        for (const line of chunk.toString().split('\n').filter(Boolean)) this.opts.log[level]({ stormd: child.pid }, line);
      });
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
