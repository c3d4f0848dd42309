/**
 * A terminal for tests that run documented commands as written: one bash inside a network namespace,
 * fed command lines one at a time, as someone typing them would. `run()` resolves with the line's exit
 * status and output (stdout and stderr as printed) and, for a `… &` line, the background job's pid.
 * Each line reads stdin from /dev/null, so no command can swallow the next. `close()` ends the shell and
 * kills, by pid, the background jobs it started; the namespace's cleanup kills whatever is left inside.
 *
 * @example
 * const sh = startShellSession(net, { cwd: clone, env: { PATH: process.env.PATH } });
 * const r = await sh.run('node bin/storm.js ls');
 * expect(r.code).toBe(0);
 * await sh.close();
 */
import { spawn } from 'node:child_process';
import { type Netns, pidsInside } from './netns.js';

export interface LineResult {
  readonly code: number;
  /** What the line printed (background jobs' output may be mixed in). */
  readonly output: string;
  /** The pid of the job a `… &` line started. */
  readonly background?: number;
}

export interface ShellSession {
  run(line: string, opts?: { timeoutMs?: number }): Promise<LineResult>;
  /** Everything the session printed so far. */
  output(): string;
  close(): Promise<void>;
}

const MARK = '@@storm-shell-line';

export function startShellSession(net: Netns, opts: { cwd: string; env: NodeJS.ProcessEnv }): ShellSession {
  const child = spawn('ip', ['netns', 'exec', net.name, 'bash', '--noprofile', '--norc'], {
    cwd: opts.cwd,
    env: opts.env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error('could not start bash');
  const jobs = new Set<number>();
  let text = '';
  let exited = false;
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    text += d.toString();
    for (const l of listeners) l();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const gone = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      for (const l of listeners) l();
      resolve();
    }),
  );
  // One stream for both, in the order they were written.
  child.stdin.write('exec 2>&1\n');
  let lines = 0;
  let last = '';

  const run = (line: string, o: { timeoutMs?: number } = {}): Promise<LineResult> => {
    const k = ++lines;
    const from = text.length;
    const timeoutMs = o.timeoutMs ?? 60_000;
    // The group keeps the line as written (a trailing comment included) and gives it no stdin.
    child.stdin.write(`{\n${line}\n} </dev/null\nprintf '\\n${MARK} %s %s %s\\n' ${k} "$?" "$!"\n`);
    const pattern = new RegExp(`\\n${MARK} ${k} (\\d+) (\\d*)\\n`);
    return new Promise((resolve, reject) => {
      const check = () => {
        const rest = text.slice(from);
        const m = pattern.exec(rest);
        if (m) {
          finish();
          const bg = m[2] && m[2] !== last ? Number(m[2]) : undefined;
          if (m[2]) last = m[2];
          if (bg !== undefined) jobs.add(bg);
          resolve({ code: Number(m[1]), output: rest.slice(0, m.index), ...(bg === undefined ? {} : { background: bg }) });
        } else if (exited) {
          finish();
          reject(new Error(`the shell exited while running: ${line}\n${rest}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`no end of \`${line}\` within ${timeoutMs} ms; it printed:\n${text.slice(from).slice(-4000)}`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        listeners.delete(check);
      };
      listeners.add(check);
      check();
    });
  };

  return {
    run,
    output: () => text,
    async close() {
      if (!exited) {
        child.stdin.end('exit\n');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await gone;
        clearTimeout(timer);
      }
      // Only jobs still in the namespace: a pid that ended may since name another process.
      const inside = new Set(await pidsInside(net.name));
      for (const pid of jobs) {
        if (!inside.has(pid)) continue;
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          // already gone
        }
      }
    },
  };
}
