/**
 * For the boot storm's third step: a real manager process whose database holds one instance (with
 * its own token) per simulated guest, and a `getConfig(guest)` that calls `storm.getConfig` over
 * XML-RPC on a new TLS connection, as a booting guest does. Without `--network` the manager checks
 * the token only (every simulated guest speaks from 127.0.0.1).
 *
 * @example
 * const srv = await startGuestConfigServer(dir, guests);
 * await srv.getConfig(guests[0]);
 * await srv.stop();
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import https from 'node:https';
import { join } from 'node:path';
import { Database } from '../manager/src/db/database.js';
import { migrate } from '../manager/src/db/migrations.js';
import { startManager } from '../test/helpers/manager-process.js';
import { freePort } from '../test/helpers/stormd-process.js';
import type { StormGuest } from './boot-storm.js';

export async function startGuestConfigServer(dataDir: string, guests: readonly StormGuest[]): Promise<{ getConfig(g: StormGuest): Promise<void>; stop(): Promise<void> }> {
  const tokens = new Map<string, string>();
  await mkdir(dataDir, { recursive: true });
  const db = await Database.open(join(dataDir, 'storm.db'));
  await migrate(db);
  const spec = JSON.stringify({ config: [{ key: 'web.greeting', value: '{{greeting}}' }, { key: 'web.url', value: 'http://{{instance.fqdn}}/' }], records: [{ type: 'MX', name: '@', value: '{{instance.fqdn}}', priority: 10 }] });
  await db.transaction(async (tx) => {
    for (const g of guests) {
      const token = randomBytes(32).toString('base64url');
      tokens.set(g.mac, token);
      await tx.run(
        `INSERT INTO instances (id, name, uuid, appliance, version, state, desired, mac, ip, memory_mib, vcpus, params, token_hash, guest_spec) VALUES (?, ?, ?, 'hello-web', '1.0.0', 'running', 'running', ?, ?, 128, 1, ?, ?, ?)`,
        [`i-${g.name}`, g.name, randomUUID(), g.mac, g.ip, JSON.stringify({ greeting: 'Hello' }), createHash('sha256').update(token).digest('hex'), spec],
      );
    }
  });
  await db.close();
  // Guests talk to the guest listener (ECDSA certificate), as the guest agent's URL says.
  const port = await freePort();
  const m = await startManager(dataDir, ['--guest-listen', `127.0.0.1:${port}`]);
  const url = new URL(`https://127.0.0.1:${port}/RPC2`);
  const body = Buffer.from('<?xml version="1.0"?><methodCall><methodName>storm.getConfig</methodName><params></params></methodCall>');
  const getConfig = (g: StormGuest) =>
    new Promise<void>((resolve, reject) => {
      const req = https.request(url, { method: 'POST', ca: m.ca, agent: false, headers: { authorization: `Bearer ${tokens.get(g.mac)}`, 'content-type': 'text/xml', 'content-length': body.length } }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => (res.statusCode === 200 && text.includes(`<string>${g.name}</string>`) && !text.includes('<fault>') ? resolve() : reject(new Error(`getConfig ${g.name}: ${res.statusCode} ${text.slice(0, 200)}`))));
      });
      req.on('error', reject);
      req.end(body);
    });
  return { getConfig, stop: async () => void (await m.proc.stop('SIGTERM')) };
}
