/**
 * Runs MIT's `krb5kdc` as a child of the manager, in the foreground (`-n`) so its pid is ours:
 * started with the manager's own profiles (never /etc/krb5kdc), ready when it says "commencing
 * operation", restarted after a short delay whenever it dies (doubling while it keeps dying, back to
 * the shortest once it has run a minute), stopped by its pid with SIGTERM. It is started through
 * util-linux's `setpriv --pdeathsig SIGTERM` (which execs it: the pid stays the KDC's), so the kernel
 * stops it when the manager dies without a word (SIGKILL, OOM): no orphan KDC holds the port.
 *
 * @example
 * const kdc = new KdcSupervisor({ files, log: (level, line) => console.log(level, line) });
 * await kdc.start();
 * kdc.status(); // { state: 'running', pid: 4242, restarts: 0, … }
 * await kdc.stop();
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { MgrErr } from '../errors.js';
import type { KdcFiles } from './kdc-files.js';
import { mitEnv } from './mit-tools.js';

export type KdcState = 'stopped' | 'starting' | 'running' | 'restarting' | 'failed';

export interface KdcStatus {
  readonly state: KdcState;
  readonly pid: number | null;
  /** Times the manager started it again after it died. */
  readonly restarts: number;
  /** When the current process became ready. */
  readonly since: string | null;
  readonly lastExit: { readonly code: number | null; readonly signal: string | null; readonly at: string } | null;
  /** The KDC's last error line, when it logged one. */
  readonly lastError: string | null;
}

export interface KdcSupervisorOptions {
  readonly files: Pick<KdcFiles, 'krb5Conf' | 'kdcConf'>;
  /** Each line the KDC logs: its errors as `warn`, requests as `debug`; the supervisor's own news as `info`/`error`. */
  readonly log: (level: 'debug' | 'info' | 'warn' | 'error', line: string) => void;
  /** Told on every change of state (the console shows it live). */
  readonly onState?: (status: KdcStatus) => void;
  readonly command?: string;
  readonly readyTimeoutMs?: number;
  /** First restart delay; doubles per quick death up to `maxRestartDelayMs`. */
  readonly restartDelayMs?: number;
  readonly maxRestartDelayMs?: number;
}

/** A KDC that ran this long before dying was healthy: its next restart is quick again. */
const STABLE_MS = 60_000;

export class KdcSupervisor {
  private child: ChildProcess | undefined;
  private state: KdcState = 'stopped';
  private restarts = 0;
  private quickDeaths = 0;
  private since: Date | null = null;
  private lastExit: KdcStatus['lastExit'] = null;
  private lastError: string | null = null;
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;

  constructor(private readonly opts: KdcSupervisorOptions) {}

  status(): KdcStatus {
    return {
      state: this.state,
      pid: this.state === 'running' || this.state === 'starting' ? (this.child?.pid ?? null) : null,
      restarts: this.restarts,
      since: this.since?.toISOString() ?? null,
      lastExit: this.lastExit,
      lastError: this.lastError,
    };
  }

  /** Starts the KDC and waits until it serves; throws with the KDC's own words when it cannot. */
  async start(): Promise<void> {
    this.stopping = false;
    await this.spawnOnce();
  }

  /** SIGTERM to the KDC's pid, SIGKILL after `graceMs`; no restart afterwards. */
  async stop(graceMs = 5000): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(kill);
    }
    this.setState('stopped');
  }

  private spawnOnce(): Promise<void> {
    this.setState(this.restarts && this.state !== 'stopped' ? 'restarting' : 'starting');
    const child = spawn('setpriv', ['--pdeathsig', 'SIGTERM', '--', this.opts.command ?? 'krb5kdc', '-n'], {
      env: mitEnv(this.opts.files),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    let started: Date | null = null;
    const tail: string[] = [];
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (err?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timeout);
        if (err) reject(err);
        else resolve();
      };
      const timeout = setTimeout(() => {
        settle(
          MgrErr.MGR_ERR_KDC(
            `krb5kdc did not start serving within ${this.opts.readyTimeoutMs ?? 10_000} ms: ${tail.slice(-3).join(' | ') || 'no output'}`,
          ),
        );
        child.kill('SIGKILL');
      }, this.opts.readyTimeoutMs ?? 10_000);
      const onLine = (line: string) => {
        tail.push(line);
        if (tail.length > 20) tail.shift();
        if (/\((Error|crit|alert|emerg)\)|krb5kdc: [A-Z]/i.test(line) && !/krb5kdc: starting/.test(line)) {
          this.lastError = line;
          this.opts.log('warn', `krb5kdc: ${line}`);
        } else this.opts.log('debug', `krb5kdc: ${line}`);
        if (!started && /commencing operation/.test(line)) {
          started = new Date();
          this.since = started;
          this.setState('running');
          settle();
        }
      };
      lines(child.stdout, onLine);
      lines(child.stderr, onLine);
      child.on('error', (err) => {
        this.lastError = err.message;
        settle(MgrErr.MGR_ERR_KDC(`cannot run krb5kdc (${err.message}); install Debian's krb5-kdc package (scripts/setup.sh does)`));
      });
      child.on('exit', (code, signal) => {
        if (this.child === child) this.child = undefined;
        this.lastExit = { code, signal, at: new Date().toISOString() };
        // setpriv exits 127 when it cannot execute the KDC: the same advice as a missing program.
        const missing = code === 127 && tail.some((l) => /failed to execute/.test(l));
        settle(
          missing
            ? MgrErr.MGR_ERR_KDC(`cannot run krb5kdc (${tail.at(-1)}); install Debian's krb5-kdc package (scripts/setup.sh does)`)
            : MgrErr.MGR_ERR_KDC(
                `krb5kdc exited (${signal ?? `code ${code}`}) before serving: ${tail.slice(-3).join(' | ') || 'no output'}`,
              ),
        );
        if (this.stopping) return;
        if (!started) {
          // Never served: a configuration problem (address in use, database gone). Keep trying, slowly.
          this.quickDeaths++;
        } else if (Date.now() - started.getTime() > STABLE_MS) this.quickDeaths = 0;
        else this.quickDeaths++;
        this.scheduleRestart(code, signal);
      });
    });
  }

  private scheduleRestart(code: number | null, signal: string | null): void {
    const first = this.opts.restartDelayMs ?? 200;
    const delay = Math.min(this.opts.maxRestartDelayMs ?? 30_000, first * 2 ** Math.max(0, this.quickDeaths - 1));
    this.since = null;
    this.setState(this.quickDeaths > 5 ? 'failed' : 'restarting');
    const exit = `krb5kdc exited (${signal ?? `code ${code}`})`;
    // krb5kdc exits 0 only when signalled: a terminal's Ctrl-C reaches it with the manager, which is stopping too.
    const clean = code === 0 && signal === null;
    if (!clean) this.opts.log('error', `${exit}; starting it again in ${delay} ms`);
    this.timer = setTimeout(() => {
      if (clean) this.opts.log('error', `${exit} ${delay} ms ago and the manager is not stopping; starting it again`);
      this.restarts++;
      this.spawnOnce().catch((err: unknown) => this.opts.log('error', err instanceof Error ? err.message : String(err)));
    }, delay);
  }

  private setState(state: KdcState): void {
    if (this.state === state) return;
    this.state = state;
    this.opts.onState?.(this.status());
  }
}

function lines(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
  let pending = '';
  stream?.on('data', (chunk: Buffer) => {
    const parts = (pending + chunk.toString('utf8')).split('\n');
    pending = parts.pop() ?? '';
    for (const p of parts) if (p.trim()) onLine(p.trim());
  });
}
