/**
 * The built `storm` CLI for tests: runs it to its end against a manager with stdin not a terminal
 * (empty, or the text given), stdout and stderr kept apart.
 *
 * @example
 * const storm = stormCli(manager.url, dataDir);
 * const { code, stdout } = await storm.run(['--json', 'ls']);
 * const list = await storm.json<unknown[]>('ls');
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './manager-process.js';

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout then stderr, for messages that may go to either. */
  readonly output: string;
}

export interface StormCli {
  /** The node arguments that run the CLI with these command-line arguments (for long-running commands). */
  args(argv: readonly string[]): string[];
  run(argv: readonly string[], opts?: { input?: string; timeoutMs?: number }): Promise<CliRun>;
  /** Runs with --json, expects exit 0, parses stdout. */
  json<T>(...argv: string[]): Promise<T>;
}

export function stormCli(url: string, dataDir: string): StormCli {
  const args = (argv: readonly string[]) => [join(ROOT, 'bin/storm.js'), '--url', url, '--data', dataDir, ...argv];
  const run: StormCli['run'] = (argv, opts = {}) =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, args(argv), { stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout?.on('data', (b: Buffer) => (stdout += b.toString()));
      child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
      child.stdin?.end(opts.input);
      const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr, output: stdout + stderr });
      });
    });
  return {
    args,
    run,
    async json<T>(...argv: string[]) {
      const r = await run(['--json', ...argv]);
      if (r.code !== 0) throw new Error(`storm --json ${argv.join(' ')} exited ${r.code}:\n${r.output}`);
      return JSON.parse(r.stdout) as T;
    },
  };
}
