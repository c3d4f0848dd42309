/**
 * Drives bench/storm-guest-client.c: builds it with the system's C compiler and OpenSSL, starts it,
 * and hands it one guest's getConfig at a time. Each call is a full TLS handshake that verifies the
 * guests' listener against the manager's CA and `storm.local`, made by OpenSSL in C, as a booting
 * guest's client is (`BENCH_STORM_CLIENT=c`). Measured on this machine, it costs the generator as much
 * CPU per guest as Node's client with its pinned leaf (docs/benchmarks.md), so it is not the default.
 * Answers undefined when no compiler or OpenSSL headers are there (the bench then uses Node's client).
 *
 * @example
 * const client = await startNativeGuestClient(dir, caPem, port);
 * await client?.getConfig({ name: 'guest0001', ip: '127.1.0.10', mac: '…' }, token);
 * await client?.close();
 */
import { execFile, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import type { StormGuest } from './boot-storm.js';

export interface NativeGuestClient {
  /** The client process, whose CPU counts as the load generator's. */
  readonly pid: number;
  getConfig(g: StormGuest, token: string): Promise<void>;
  close(): Promise<void>;
}

export async function startNativeGuestClient(dir: string, caPem: string, port: number): Promise<NativeGuestClient | undefined> {
  const bin = join(dir, 'storm-guest-client');
  const source = join(import.meta.dirname, 'storm-guest-client.c');
  try {
    await promisify(execFile)('cc', ['-O2', '-o', bin, source, '-lssl', '-lcrypto']);
  } catch (err) {
    process.stderr.write(
      `[bench] no C guest client (${err instanceof Error ? err.message.split('\n')[0] : String(err)}): Node's TLS client instead\n`,
    );
    return undefined;
  }
  const ca = join(dir, 'guest-client-ca.pem');
  await writeFile(ca, caPem);
  const child = spawn(bin, [ca], { stdio: ['pipe', 'pipe', 'inherit'] });
  const waiting = new Map<number, { resolve(): void; reject(err: Error): void }>();
  createInterface({ input: child.stdout }).on('line', (line) => {
    const [verdict, id, ...reason] = line.split(' ');
    const w = waiting.get(Number(id));
    waiting.delete(Number(id));
    if (verdict === 'ok') w?.resolve();
    else w?.reject(new Error(`getConfig: ${reason.join(' ')}`));
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let next = 0;
  return {
    pid: child.pid!,
    getConfig: (g, token) =>
      new Promise<void>((resolve, reject) => {
        const id = next++;
        waiting.set(id, { resolve, reject: (err) => reject(new Error(`${g.name}: ${err.message}`)) });
        child.stdin.write(`${id} ${g.ip} ${port} ${token} ${g.name}\n`);
      }),
    close: async () => {
      child.stdin.end();
      await exited;
    },
  };
}
