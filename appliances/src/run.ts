/**
 * Runs a command without a shell and collects its output; throws `APPL_ERR_COMMAND` carrying the
 * command's stderr when it fails.
 *
 * @example
 * const { stdout } = await run('apt-cache', ['depends', 'linux-image-amd64']);
 */
import { spawn } from 'node:child_process';
import { ApplErr } from './errors.js';

export interface RunOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
}

export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
}

// Output kept per stream: enough for any listing we parse, bounded against runaway tools.
const MAX_OUTPUT = 16 * 1024 * 1024;
const STDERR_IN_ERROR = 2000;

export async function run(cmd: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const { stdout, stderr } = await runBuffer(cmd, args, options);
  return { stdout: stdout.toString('utf8'), stderr };
}

/** Like `run`, with stdout as bytes (decompressors). */
export function runBuffer(cmd: string, args: readonly string[], options: RunOptions = {}): Promise<{ stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outLen = 0;
    let errLen = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      if (outLen < MAX_OUTPUT) out.push(chunk);
      outLen += chunk.length;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (errLen < MAX_OUTPUT) err.push(chunk);
      errLen += chunk.length;
    });
    const line = [cmd, ...args].join(' ');
    child.on('error', (cause) => reject(ApplErr.APPL_ERR_COMMAND(`${line}: ${cause.message}`, { cause })));
    child.on('close', (code, signal) => {
      const stderr = Buffer.concat(err).toString('utf8');
      if (code === 0) return resolve({ stdout: Buffer.concat(out), stderr });
      const how = signal ? `killed by ${signal}` : `exit ${code}`;
      const tail = stderr.trim().slice(-STDERR_IN_ERROR);
      reject(ApplErr.APPL_ERR_COMMAND(`${line} (${how})${tail ? `: ${tail}` : ''}`));
    });
  });
}
