/**
 * A dnsmasq on loopback for tests and benchmarks (as an upstream resolver, or as the reference in
 * the DNS benchmark): no resolv.conf, no hosts file, no DHCP, foreground, stopped by its pid.
 *
 * @example
 * const d = await startDnsmasq(['--host-record=web1.storm.internal,10.77.0.10']);
 * // dig @127.0.0.1 -p d.port web1.storm.internal
 * await d.stop();
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';

export interface Dnsmasq {
  readonly port: number;
  readonly pid: number;
  stop(): Promise<void>;
}

/** A port free on 127.0.0.1 for TCP at the moment (dnsmasq binds UDP and TCP to it). */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export async function startDnsmasq(records: readonly string[]): Promise<Dnsmasq> {
  const port = await freePort();
  const child = spawn(
    'dnsmasq',
    [
      '--keep-in-foreground',
      '--no-resolv',
      '--no-hosts',
      '--conf-file=/dev/null',
      '--pid-file=',
      '--user=root',
      '--group=root',
      '--listen-address=127.0.0.1',
      '--bind-interfaces',
      `--port=${port}`,
      '--cache-size=0',
      ...records,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Ready once it accepts a TCP connection on its port.
  const deadline = Date.now() + 5000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`dnsmasq exited: ${err}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(true)); // in use: dnsmasq has it
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(false)));
    });
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`dnsmasq did not listen on ${port}: ${err}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    pid: child.pid!,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}
