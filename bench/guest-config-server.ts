/**
 * For the boot storm's third step: a real manager process whose database holds one instance (with
 * its own token) per simulated guest, and a `getConfig(guest)` that calls `storm.getConfig` over
 * XML-RPC on a new TLS connection (a full handshake), as a booting guest does. Each simulated guest
 * connects from its own loopback address (the listener caps each address's connections); given the
 * guests' `network` (their addresses are in it), the manager checks token and address, as in
 * production, else the token only.
 *
 * @example
 * const srv = await startGuestConfigServer(dir, guests, '127.1.0.0/22');
 * await srv.getConfig(guests[0]);
 * await srv.stop();
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { connect as tcpConnect } from 'node:net';
import { createSecureContext, connect as tlsConnect } from 'node:tls';
import { join } from 'node:path';
import { Database } from '../manager/src/db/database.js';
import { clientTlsOptions } from '../trust/tls-options.js';
import { migrate } from '../manager/src/db/migrations.js';
import { startManager } from '../test/helpers/manager-process.js';
import { freePort } from '../test/helpers/stormd-process.js';
import type { StormGuest } from './boot-storm.js';
import { cpuProfileArgs, writeCpuProfile } from './harness.js';
import { startNativeGuestClient } from './native-guest-client.js';

export async function startGuestConfigServer(
  dataDir: string,
  guests: readonly StormGuest[],
  network?: string,
  /** Where to write the manager's V8 CPU profile when it stops (`cpu-profile.mjs`). */
  profile?: string,
): Promise<{
  getConfig(g: StormGuest): Promise<void>;
  readonly pid: number /** The C guest client's process (its CPU is the generator's), when it runs. */;
  readonly clientPid?: number;
  stop(): Promise<void>;
}> {
  const tokens = new Map<string, string>();
  await mkdir(dataDir, { recursive: true });
  const db = await Database.open(join(dataDir, 'storm.db'));
  await migrate(db);
  const spec = JSON.stringify({
    config: [
      { key: 'web.greeting', value: '{{greeting}}' },
      { key: 'web.url', value: 'http://{{instance.fqdn}}/' },
    ],
    records: [{ type: 'MX', name: '@', value: '{{instance.fqdn}}', priority: 10 }],
  });
  await db.transaction(async (tx) => {
    for (const g of guests) {
      const token = randomBytes(32).toString('base64url');
      tokens.set(g.mac, token);
      await tx.run(
        `INSERT INTO instances (id, name, uuid, appliance, version, state, desired, mac, ip, memory_mib, vcpus, params, token_hash, guest_spec) VALUES (?, ?, ?, 'hello-web', '1.0.0', 'running', 'running', ?, ?, 128, 1, ?, ?, ?)`,
        [
          `i-${g.name}`,
          g.name,
          randomUUID(),
          g.mac,
          g.ip,
          JSON.stringify({ greeting: 'Hello' }),
          createHash('sha256').update(token).digest('hex'),
          spec,
        ],
      );
    }
  });
  await db.close();
  // Guests talk to the guest listener (ECDSA certificate), as the guest agent's URL says.
  const port = await freePort();
  // With the guests' network, the manager checks each call's source address against the instance's, as in production.
  const profiling = cpuProfileArgs(profile);
  const m = await startManager(
    dataDir,
    ['--guest-listen', `127.0.0.1:${port}`, ...(network ? ['--network', network] : [])],
    profiling.env,
    profiling.nodeArgs,
  );
  const leaf = await verifiedLeaf(port, m.ca);
  const body = '<?xml version="1.0"?><methodCall><methodName>storm.getConfig</methodName><params></params></methodCall>';
  // One context for all simulated guests, as each real guest loads its TLS setup once.
  const secureContext = createSecureContext({});
  const nodeGetConfig = (g: StormGuest) =>
    new Promise<void>((resolve, reject) => {
      // A full handshake per guest, as a booting guest does; the leaf is pinned (checked against the CA
      // once, above) so the generator skips Node's per-connection
      // context and chain walk (about 1.5 ms of its CPU per guest, on the cores the manager needs too).
      // From the guest's own address (any 127/8 address is local), as the listener caps each address's connections.
      const socket = tlsConnect({
        socket: tcpConnect({ host: '127.0.0.1', port, localAddress: g.ip }),
        secureContext,
        rejectUnauthorized: false,
      });
      let text = '';
      socket.setEncoding('utf8');
      socket.once('secureConnect', () => {
        // getPeerCertificate(), not getPeerX509Certificate(): the same DER, at well under half the CPU per connection.
        if (!socket.getPeerCertificate().raw?.equals(leaf))
          return socket.destroy(new Error('the guest listener presented another certificate'));
        socket.write(
          `POST /RPC2 HTTP/1.1\r\nHost: storm.local\r\nAuthorization: Bearer ${tokens.get(g.mac)}\r\nContent-Type: text/xml\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
        );
      });
      socket.on('data', (d: string) => (text += d));
      socket.once('error', reject);
      socket.once('close', () =>
        text.startsWith('HTTP/1.1 200') && text.includes(`<string>${g.name}</string>`) && !text.includes('<fault>')
          ? resolve()
          : reject(new Error(`getConfig ${g.name}: ${text.slice(0, 200)}`)),
      );
    });
  // BENCH_STORM_CLIENT=c: the guests' handshakes by OpenSSL in C (bench/storm-guest-client.c); measured no cheaper (docs/benchmarks.md).
  const native = process.env['BENCH_STORM_CLIENT'] === 'c' ? await startNativeGuestClient(dataDir, m.ca, port) : undefined;
  const getConfig = native ? (g: StormGuest) => native.getConfig(g, tokens.get(g.mac)!) : nodeGetConfig;
  const stop = async () => {
    await native?.close();
    if (profile) await writeCpuProfile(m.proc.pid, profile);
    await m.proc.stop('SIGTERM');
  };
  return { getConfig, pid: m.proc.pid, clientPid: native?.pid, stop };
}

/** The guest listener's certificate, after a handshake that verifies it as a guest does: the manager's CA, storm.local, the manager role. */
function verifiedLeaf(port: number, ca: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect(
      { host: '127.0.0.1', port, ...clientTlsOptions({ ca, servername: 'storm.local', role: 'manager' }), minVersion: 'TLSv1.2' },
      () => {
        resolve(socket.getPeerCertificate().raw);
        socket.destroy();
      },
    );
    socket.once('error', reject);
  });
}
