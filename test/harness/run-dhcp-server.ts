/**
 * Runs the manager's DhcpServer alone, for tests that start it inside a network namespace
 * (`ip netns exec NS node --import tsx test/harness/run-dhcp-server.ts '<json>'`), where it sees
 * the namespace's bridge. Leases go to a real sqlite file, so a restart is a real restart.
 * Prints `ready <port>` once listening; on SIGTERM prints `stats <json>` and exits 0.
 *
 * @example
 * node --import tsx test/harness/run-dhcp-server.ts '{"db":"/tmp/x/storm.db","reservations":{"52:54:00:00:00:01":{"ip":"10.77.0.10","hostname":"web1"}},"config":{…}}'
 */
import { readFileSync } from 'node:fs';
import { Database } from '../../manager/src/db/database.js';
import type { DhcpServerConfig } from '../../manager/src/protocols/dhcp/config.js';
import { MemoryReservations } from '../../manager/src/protocols/dhcp/memory-sources.js';
import { DHCP_LEASES_SQL } from '../../manager/src/db/migrations.js';
import { DhcpServer } from '../../manager/src/protocols/dhcp/server.js';
import type { Reservation } from '../../manager/src/protocols/dhcp/sources.js';
import { SqliteLeaseStore } from '../../manager/src/protocols/dhcp/sqlite-lease-store.js';

export interface DhcpRunnerOptions {
  readonly db: string;
  readonly reservations: Readonly<Record<string, Reservation>>;
  readonly config: DhcpServerConfig;
}

// '-': the options come on stdin (bench/service-process.ts: too long for one argument).
const options = JSON.parse(process.argv[2] === '-' ? readFileSync(0, 'utf8') : (process.argv[2] ?? '{}')) as DhcpRunnerOptions;
const db = await Database.open(options.db);
const exists = await db.get<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'dhcp_leases'");
if (!exists) await db.exec(DHCP_LEASES_SQL);
const server = new DhcpServer(options.config, {
  reservations: new MemoryReservations(options.reservations),
  leases: new SqliteLeaseStore(db),
  log: (m) => process.stderr.write(`${m}\n`),
});
await server.start();
process.stdout.write(`ready ${server.port}\n`);

process.once('SIGTERM', () => {
  void (async () => {
    process.stdout.write(`stats ${JSON.stringify(server.stats())}\n`);
    await server.close();
    await db.close();
    process.exit(0);
  })();
});
