/**
 * NoCloud-net on the guest listener, on a real database: the seed goes to the reserved address of a
 * traditional instance only, never with the guest token; a layered instance's address, another
 * address, an unknown file and a manager without an appliance network get 404.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Database } from '../db/database.js';
import { migrate } from '../db/migrations.js';
import { InstanceStore } from '../instances/instance-store.js';
import { ImageInstanceStore } from './image-instance-store.js';
import { noCloudRoutes } from './nocloud-net.js';

let dir: string;
let db: Database;
let app: FastifyInstance;
let bare: FastifyInstance;
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBn0Kz5c2W3m6cJ3bX8n2x3w9Rr0vVqkq9y1u0o7pQ2c admin@storm';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'storm-nocloud-'));
  db = await Database.open(join(dir, 'db'));
  await migrate(db);
  const store = new InstanceStore(db);
  const images = new ImageInstanceStore(db);
  const row = (id: string, name: string, mac: string) => ({
    id,
    name,
    uuid: `u-${id}`,
    channel_id: null,
    appliance: 'debian-cloud',
    version: '12.0.0',
    host_id: null,
    mac,
    memory_mib: 512,
    vcpus: 1,
    params: '{}',
    token_hash: 'a-hash-not-the-token',
    guest_spec: '{}',
  });
  await db.transaction(async (tx) => {
    await store.insert(tx, row('i-trad', 'trad1', '52:54:00:00:00:01'), []);
    await store.setAddress(tx, 'i-trad', '10.77.0.5');
    await images.insert(tx, 'i-trad', { firmware: 'bios', diskMiB: 2048, sshKeys: [KEY] });
    await store.insert(tx, row('i-layered', 'web1', '52:54:00:00:00:02'), []);
    await store.setAddress(tx, 'i-layered', '10.77.0.6');
  });
  const source = (network: boolean) => ({
    store,
    images,
    domain: () => 'storm.internal',
    guest: () => ({ guestUrl: 'https://storm.local:8444/RPC2', domain: 'storm.internal', caPem: '-----BEGIN CERTIFICATE-----\n' }),
    network: () => (network ? { prefix: 24, gateway: '10.77.0.1', dns: '10.77.0.1' } : undefined),
  });
  app = Fastify();
  await app.register(noCloudRoutes, { source: source(true) });
  bare = Fastify();
  await bare.register(noCloudRoutes, { source: source(false) });
});
afterAll(async () => {
  await app?.close();
  await bare?.close();
  await db?.close();
  await rm(dir, { recursive: true, force: true });
});

const get = (on: FastifyInstance, file: string, from: string) => on.inject({ method: 'GET', url: `/nocloud/${file}`, remoteAddress: from });

describe('NoCloud-net', () => {
  it("answers a traditional instance's own address with its seed, and no token", async () => {
    const meta = await get(app, 'meta-data', '10.77.0.5');
    expect(meta.statusCode).toBe(200);
    // JSON, which is YAML too.
    expect(JSON.parse(meta.body)).toMatchObject({ 'instance-id': 'i-trad', 'local-hostname': 'trad1' });
    const user = await get(app, 'user-data', '::ffff:10.77.0.5');
    expect(user.statusCode).toBe(200);
    expect(user.body).toMatch(/^#cloud-config/);
    expect(user.body).toContain(KEY);
    expect(user.body).not.toContain('/etc/storm/token');
    expect((await get(app, 'network-config', '10.77.0.5')).body).toContain('10.77.0.5/24');
    expect(await get(app, 'vendor-data', '10.77.0.5')).toMatchObject({ statusCode: 200, body: '' });
  });

  it('refuses a layered instance, any other address, an unknown file, and a manager without an appliance network', async () => {
    expect((await get(app, 'meta-data', '10.77.0.6')).statusCode).toBe(404);
    expect((await get(app, 'meta-data', '10.77.0.9')).statusCode).toBe(404);
    expect((await get(app, 'meta-data', '127.0.0.1')).statusCode).toBe(404);
    expect((await get(app, 'passwd', '10.77.0.5')).statusCode).toBe(404);
    expect((await get(bare, 'meta-data', '10.77.0.5')).statusCode).toBe(404);
  });
});
