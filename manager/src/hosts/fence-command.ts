/**
 * A host's fence command: the argv the administrator stored on the host (no shell of ours), run by
 * the manager before it declares the host dead, so that the host is really off (its power cut, its
 * port shut) before anything of it is given up. It gets the host's id, name and URL in its
 * environment (`STORM_HOST_ID`, `STORM_HOST_NAME`, `STORM_HOST_URL`), runs in a process group of its
 * own, and is killed with that group when it outlives its timeout. Exit 0 is success; anything else,
 * or the timeout, stops the declaration with the command's output.
 *
 * @example
 * const run = await runFence({ argv: ['ipmitool', '-f', '/etc/storm/ipmi.pw', 'power', 'off'], timeoutSeconds: 30 }, host);
 * if (run.exitCode !== 0) throw …;
 */
import { spawn } from 'node:child_process';

export interface FenceRun {
  readonly argv: readonly string[];
  /** The exit code; -1 when it could not start or was killed (timeout, signal). */
  readonly exitCode: number;
  /** stdout and stderr as they came, at most `OUTPUT_LIMIT` bytes (the tail is cut, and says so). */
  readonly output: string;
  readonly timedOut: boolean;
}

const OUTPUT_LIMIT = 16 * 1024;

export function runFence(
  fence: { readonly argv: readonly string[]; readonly timeoutSeconds: number },
  host: { readonly id: string; readonly name: string; readonly url: string },
): Promise<FenceRun> {
  const [command, ...args] = fence.argv;
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let timedOut = false;
    const keep = (b: Buffer) => {
      if (size < OUTPUT_LIMIT) chunks.push(b.subarray(0, OUTPUT_LIMIT - size));
      size += b.length;
    };
    const text = () => Buffer.concat(chunks).toString('utf8') + (size > OUTPUT_LIMIT ? `\n… (${size - OUTPUT_LIMIT} more bytes)` : '');
    const child = spawn(command!, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group: a timeout kills what it started too (a shell's children).
      detached: true,
      env: { ...process.env, STORM_HOST_ID: host.id, STORM_HOST_NAME: host.name, STORM_HOST_URL: host.url },
    });
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, fence.timeoutSeconds * 1000);
    child.once('error', (err) => {
      clearTimeout(timer);
      resolve({ argv: fence.argv, exitCode: -1, output: `${text()}${err.message}`, timedOut });
    });
    const done = (code: number | null) => {
      clearTimeout(timer);
      const note = timedOut ? `\n(killed after ${fence.timeoutSeconds} s)` : '';
      resolve({ argv: fence.argv, exitCode: code ?? -1, output: text() + note, timedOut });
    };
    child.once('close', done);
    // Something it left behind (a daemon in a session of its own) may hold its output open: its exit decides, a moment later.
    child.once('exit', (code) => setTimeout(() => done(code), 1000).unref());
  });
}
