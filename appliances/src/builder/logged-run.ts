/**
 * Runs a long build command (debootstrap, a chroot step) with its output appended to a log file,
 * a bounded tail kept for the error message, and a time limit enforced by SIGKILL to its pid.
 *
 * @example
 * await runLogged('debootstrap', ['--variant=minbase', 'bookworm', root, mirror], { logFile, timeoutMs: 20 * 60_000, label: 'debootstrap' });
 */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ApplErr } from '../errors.js';

export interface LoggedRunOptions {
  /** Appended to; created with its folder. */
  readonly logFile: string;
  readonly timeoutMs: number;
  /** Names the command in errors, e.g. `nginx-web step 3 (apt)`. */
  readonly label: string;
  readonly env?: NodeJS.ProcessEnv;
  /** The catalog entry a failure is reported with. */
  readonly error?: typeof ApplErr.APPL_ERR_RECIPE_STEP;
}

const TAIL_BYTES = 3000;

export async function runLogged(cmd: string, args: readonly string[], opts: LoggedRunOptions): Promise<void> {
  await mkdir(dirname(opts.logFile), { recursive: true });
  const log = createWriteStream(opts.logFile, { flags: 'a' });
  // A multi-line argument is a script (the stack program): name it rather than repeat it.
  log.write(`\n### ${opts.label}: ${cmd} ${args.map((a) => (a.includes('\n') ? '<script>' : a)).join(' ')}\n`);
  let tail = '';
  const keep = (chunk: Buffer): void => {
    log.write(chunk);
    tail = (tail + chunk.toString('utf8')).slice(-TAIL_BYTES);
  };
  const fail = opts.error ?? ApplErr.APPL_ERR_RECIPE_STEP;
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(cmd, args, { env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        // By pid: the command's own cleanup (namespaces, --kill-child) takes the rest down.
        if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
      }, opts.timeoutMs);
      child.stdout.on('data', keep);
      child.stderr.on('data', keep);
      child.on('error', (cause) => {
        clearTimeout(timer);
        reject(fail(`${opts.label}: ${cmd}: ${cause.message}`, { cause }));
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (code === 0) return resolve();
        const how = timedOut ? `timed out after ${Math.round(opts.timeoutMs / 1000)}s` : signal ? `killed by ${signal}` : `exit ${code}`;
        reject(fail(`${opts.label} (${how}); log ${opts.logFile}; last output:\n${tail.trimEnd()}`));
      });
    });
  } finally {
    await new Promise<void>((resolve) => log.end(resolve));
  }
}
