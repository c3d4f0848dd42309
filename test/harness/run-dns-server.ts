/**
 * Runs the manager's DnsServer alone in its own process (for benchmarks and namespace tests), over
 * an in-memory zone: the sample zone plus `instances` ({ name: ip }). Prints `ready <port>`; on
 * SIGTERM prints `stats <json>` and exits 0.
 *
 * @example
 * node --import tsx test/harness/run-dns-server.ts '{"listen":"127.0.0.1:0","instances":{"guest1":"10.77.0.11"},"config":{"cacheTtlMs":0}}'
 */
import { readFileSync } from 'node:fs';
import type { DnsServerConfig } from '../../manager/src/protocols/dns/config.js';
import { DnsServer } from '../../manager/src/protocols/dns/server.js';
import { sampleZone } from '../../manager/src/protocols/dns/test-support/fixtures.js';

export interface DnsRunnerOptions {
  readonly listen: string;
  readonly networks?: readonly string[];
  readonly instances?: Readonly<Record<string, string>>;
  readonly config?: Partial<DnsServerConfig>;
}

// '-': the options come on stdin (bench/service-process.ts: too long for one argument).
const options = JSON.parse(process.argv[2] === '-' ? readFileSync(0, 'utf8') : (process.argv[2] ?? '{}')) as DnsRunnerOptions;
const zone = sampleZone();
for (const [name, ip] of Object.entries(options.instances ?? {})) zone.addInstance(name, ip);
const server = new DnsServer(
  { networks: options.networks ?? ['10.77.0.0/24'], ...options.config, listen: options.listen },
  { zone, log: (m) => process.stderr.write(`${m}\n`) },
);
await server.start();
process.stdout.write(`ready ${server.address.port}\n`);

process.once('SIGTERM', () => {
  void (async () => {
    process.stdout.write(`stats ${JSON.stringify(server.stats())}\n`);
    await server.close();
    process.exit(0);
  })();
});
