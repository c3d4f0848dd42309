/**
 * Child processes for tests: collect output, wait for a line, stop by pid (never by name), and a
 * registry so an aborted test still stops what it started.
 *
 * @example
 * const p = startProcess('node', ['bin/storm-manager.js', '--data', dir]);
 * const line = await p.waitForLine(/listening on (\S+)/, 60_000);
 * expect(await p.stop('SIGTERM')).toEqual({ code: 0, signal: null });
 */
import { type ChildProcess, spawn, type SpawnOptions } from 'node:child_process';

export interface TestProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  waitForLine(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray>;
  /** Sends `signal` to the pid, escalates to SIGKILL after `graceMs`, resolves with how it exited. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running = new Set<TestProcess>();

export function startProcess(command: string, args: readonly string[], options: SpawnOptions = {}): TestProcess {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  if (child.pid === undefined) throw new Error(`could not start ${command}`);
  let out = '';
  const waiters = new Set<() => void>();
  const onData = (b: Buffer) => {
    out += b.toString();
    for (const w of waiters) w();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      running.delete(proc);
      for (const w of waiters) w();
      resolve({ code, signal });
    }),
  );
  const proc: TestProcess = {
    child,
    pid: child.pid,
    output: () => out,
    exited: () => exit,
    waitForLine(pattern, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = pattern.exec(out);
          if (m) {
            done();
            resolve(m);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            done();
            reject(new Error(`process ${child.pid} exited before printing ${pattern}; output:\n${out.slice(-4000)}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${pattern}; output:\n${out.slice(-4000)}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    async stop(signal = 'SIGTERM', graceMs = 20_000) {
      if (child.exitCode === null && child.signalCode === null) {
        process.kill(child.pid!, signal);
        const timer = setTimeout(
          () => child.exitCode === null && child.signalCode === null && process.kill(child.pid!, 'SIGKILL'),
          graceMs,
        );
        const result = await exit;
        clearTimeout(timer);
        return result;
      }
      return exit;
    },
  };
  running.add(proc);
  return proc;
}

/** Stops every process a test started and did not stop (for afterAll/afterEach). */
export async function stopAllProcesses(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop('SIGKILL')));
}
