/**
 * DHCP against real clients, none of our code on the client side: busybox udhcpc and ISC dhclient
 * in guest namespaces wired to a bridge, the server (test/harness/run-dhcp-server.ts) inside the
 * bridge's namespace with its leases in a real sqlite file.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Database } from '../../manager/src/db/database.js';
import type { DhcpServerConfig } from '../../manager/src/protocols/dhcp/config.js';
import type { DhcpStats } from '../../manager/src/protocols/dhcp/server.js';
import { dhclientArgs, dhcpClientFiles, readEvents, udhcpcArgs, waitForEvent } from '../harness/dhcp-clients.js';
import { createNetns, haveCommand, type Netns, netnsAvailable, type Started } from '../harness/netns.js';

const ROOT = resolve(import.meta.dirname, '../..');
const RUNNER = join(ROOT, 'test/harness/run-dhcp-server.ts');
const ready = netnsAvailable() && haveCommand('busybox') && haveCommand('dhclient');

const BASE: DhcpServerConfig = {
  interface: 'br0',
  serverIp: '10.77.0.1',
  subnet: '10.77.0.0/24',
  router: '10.77.0.1',
  dnsServers: ['10.77.0.1'],
  domain: 'storm.internal',
  leaseTime: 600,
};
const RESERVED = {
  '52:54:00:00:00:01': { ip: '10.77.0.10', hostname: 'web1' },
  '52:54:00:00:00:02': { ip: '10.77.0.11', hostname: 'web2' },
};
const STRANGER = '52:54:00:00:00:99';

describe.skipIf(!ready)('DHCP with udhcpc and dhclient in a network namespace', () => {
  let net: Netns;
  let dir: string;
  let server: Started | undefined;

  async function startServer(config: DhcpServerConfig = BASE): Promise<void> {
    server = net.start(
      net.name,
      process.execPath,
      ['--import', 'tsx', RUNNER, JSON.stringify({ db: join(dir, 'storm.db'), reservations: RESERVED, config })],
      { cwd: ROOT },
    );
    await server.waitFor(/^ready \d+/m, 20_000);
  }

  async function stopServer(): Promise<DhcpStats> {
    const s = server!;
    server = undefined;
    await s.stop('SIGTERM');
    const m = /^stats (.*)$/m.exec(s.output());
    if (!m) throw new Error(`no stats from the server: ${s.output()}`);
    return JSON.parse(m[1]!) as DhcpStats;
  }

  async function leaseRows(): Promise<{ mac: string; ip: string }[]> {
    const db = await Database.open(join(dir, 'storm.db'));
    try {
      return await db.all('SELECT mac, ip FROM dhcp_leases ORDER BY mac');
    } finally {
      await db.close();
    }
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'storm-dhcp-'));
    net = await createNetns({ bridgeAddress: '10.77.0.1/24' });
    await startServer();
  });

  afterAll(async () => {
    await net?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  let udhcpc: Started;
  let udhcpcLog: string;

  it('udhcpc: a reserved MAC gets its address and every option', async () => {
    const guest = await net.addGuest({ mac: '52:54:00:00:00:01' });
    const files = await dhcpClientFiles(dir, 'g1');
    udhcpcLog = files.log;
    udhcpc = net.start(guest.ns, 'busybox', udhcpcArgs(files, { once: false }));
    const bound = await waitForEvent(files.log, 'bound');
    expect(bound.fields).toMatchObject({
      ip: '10.77.0.10',
      mask: '24',
      subnet: '255.255.255.0',
      router: '10.77.0.1',
      dns: '10.77.0.1',
      domain: 'storm.internal',
      hostname: 'web1',
      lease: '600',
      serverid: '10.77.0.1',
    });
  });

  it('dhclient: a reserved MAC gets its address and every option', async () => {
    const guest = await net.addGuest({ mac: '52:54:00:00:00:02' });
    const files = await dhcpClientFiles(dir, 'g2');
    const client = net.start(guest.ns, 'dhclient', dhclientArgs(files));
    const bound = await waitForEvent(files.log, 'BOUND');
    expect(bound.fields).toMatchObject({
      ip: '10.77.0.11',
      mask: '255.255.255.0',
      router: '10.77.0.1',
      dns: '10.77.0.1',
      domain: 'storm.internal',
      hostname: 'web2',
      lease: '600',
    });
    await client.stop();
  });

  it('an unknown MAC gets nothing: both clients time out and no lease is stored', async () => {
    const guest = await net.addGuest({ mac: STRANGER });
    const a = await dhcpClientFiles(dir, 'g3a');
    const b = await dhcpClientFiles(dir, 'g3b');
    const [udhcpcCode, dhclientCode] = await Promise.all([
      net.exec(guest.ns, 'busybox', udhcpcArgs(a, { once: true }), { timeoutMs: 20_000 }).then((r) => r.code),
      net.exec(guest.ns, 'dhclient', dhclientArgs(b), { timeoutMs: 20_000 }).then((r) => r.code),
    ]);
    expect(udhcpcCode).not.toBe(0);
    expect(dhclientCode).toBe(2);
    expect((await readEvents(a.log)).map((e) => e.event)).not.toContain('bound');
    expect((await readEvents(b.log)).map((e) => e.event)).not.toContain('BOUND');
    expect((await leaseRows()).map((r) => r.mac)).not.toContain(STRANGER);
  }, 40_000);

  it('the lease survives a server restart: udhcpc renews and keeps its address', async () => {
    const before = await stopServer();
    expect(before.skipped['unknown-client']).toBeGreaterThan(0);
    expect(before.acks).toBeGreaterThanOrEqual(2);
    await startServer();
    const seen = (await readEvents(udhcpcLog)).length;
    process.kill(udhcpc.pid, 'SIGUSR1'); // udhcpc: renew now
    const renew = await waitForEvent(udhcpcLog, 'renew', { after: seen });
    expect(renew.fields.ip).toBe('10.77.0.10');
    await udhcpc.stop();
    const after = await stopServer();
    expect(after.acks).toBe(1);
    expect(await leaseRows()).toEqual([
      { mac: '52:54:00:00:00:01', ip: '10.77.0.10' },
      { mac: '52:54:00:00:00:02', ip: '10.77.0.11' },
    ]);
  }, 40_000);

  it('a pool lease survives a restart too: the renewal is ACKed only because the lease was stored', async () => {
    const pool = { ...BASE, pool: { start: '10.77.0.100', end: '10.77.0.120' } };
    await startServer(pool);
    const guest = await net.addGuest({ mac: '52:54:00:00:01:01' });
    const files = await dhcpClientFiles(dir, 'g4');
    const client = net.start(guest.ns, 'busybox', udhcpcArgs(files, { once: false }));
    const bound = await waitForEvent(files.log, 'bound');
    expect(bound.fields.ip).toMatch(/^10\.77\.0\.1[0-2]\d$/);
    await stopServer();
    await startServer(pool);
    const seen = (await readEvents(files.log)).length;
    process.kill(client.pid, 'SIGUSR1');
    expect((await waitForEvent(files.log, 'renew', { after: seen })).fields.ip).toBe(bound.fields.ip);
    await client.stop();
    const stats = await stopServer();
    expect([stats.acks, stats.skipped['no-record']]).toEqual([1, 0]);
  }, 40_000);
});
