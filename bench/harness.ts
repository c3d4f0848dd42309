/**
 * The benchmark harness: each `bench/*.bench.ts` exports a `Benchmark`; `npm run bench` runs them in
 * order, prints one table and writes the raw numbers to `bench/results/<timestamp>.json`.
 *
 * @example
 * export const benchmark: Benchmark = {
 *   name: 'boot', describe: 'define → root ready under TCG',
 *   async run(report) { report({ metric: 'root ready', value: 4.2, unit: 's', note: 'median of 5' }); },
 * };
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

export interface Measurement {
  readonly metric: string;
  readonly value: number;
  readonly unit: string;
  readonly note?: string;
}

export interface Benchmark {
  readonly name: string;
  readonly describe: string;
  run(report: (m: Measurement) => void): Promise<void>;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export function formatTable(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

/** CPU time (user + system) a process has used so far, ms, from /proc (clock ticks of 10 ms). */
export function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Bytes the disk holds for a path (allocated, not apparent size): `du -sB1`. */
export async function du(path: string): Promise<number> {
  return Number((await promisify(execFile)('du', ['-sB1', path])).stdout.split('\t')[0]);
}

/** Environment and node flags that make a process write its V8 CPU profile to `file` on SIGUSR2 (`cpu-profile.mjs`). */
export function cpuProfileArgs(file: string | undefined): { env: NodeJS.ProcessEnv; nodeArgs: string[] } {
  return file
    ? { env: { STORM_CPU_PROFILE: file }, nodeArgs: ['--import', join(import.meta.dirname, 'cpu-profile.mjs')] }
    : { env: {}, nodeArgs: [] };
}

/** Asks a process started with `cpuProfileArgs(file)` for its profile and waits until the file is there. */
export async function writeCpuProfile(pid: number, file: string): Promise<void> {
  await unlink(file).catch(() => undefined);
  process.kill(pid, 'SIGUSR2');
  for (let i = 0; i < 100; i++) {
    if (
      await stat(file).then(
        (s) => s.size > 0,
        () => false,
      )
    )
      return;
    await new Promise((r) => setTimeout(r, 100));
  }
  process.stderr.write(`[bench] process ${pid} wrote no profile to ${file}\n`);
}
