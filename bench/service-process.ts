/**
 * Starts one of the service runners (test/harness/run-*-server.ts) as its own process, so a
 * benchmark's load generator never shares an event loop with the server it measures. Stopped by
 * its pid; `stop()` returns the stats the runner prints on SIGTERM.
 *
 * @example
 * const dns = await startService('run-dns-server.ts', { listen: '127.0.0.1:0' });
 * // … load on dns.port …
 * const stats = await dns.stop();
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

export interface ServiceProcess {
  readonly port: number;
  readonly pid: number;
  stop(): Promise<unknown>;
}

export async function startService(runner: string, options: unknown): Promise<ServiceProcess> {
  // The options on stdin ('-'): a zone of 10,000 names is more than one argument may hold (128 KiB).
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/harness', runner), '-'], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin.end(JSON.stringify(options));
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`${runner} not ready within 20 s: ${err}`)), 20_000);
    const fail = (e: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(e);
    };
    child.stdout.on('data', () => {
      const m = /^ready (\d+)$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => fail(new Error(`${runner} exited (${code}): ${err}`)));
  });
  return {
    port,
    pid: child.pid!,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      const m = /^stats (.*)$/m.exec(out);
      return m ? (JSON.parse(m[1]!) as unknown) : undefined;
    },
  };
}
