import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Database } from '../db/database.js';
import { migrate } from '../db/migrations.js';
import { serialFor, VolumeStore } from './volume-store.js';

let dir: string;
let db: Database;
let store: VolumeStore;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'storm-volumes-'));
  db = await Database.open(join(dir, 'storm.db'));
  await migrate(db);
  store = new VolumeStore(db);
  await db.run("INSERT INTO hosts (id, name, url, cert_serial) VALUES ('host-1', 'h1', 'https://h1:9443', '01')");
  await db.run(
    `INSERT INTO instances (id, name, uuid, appliance, version, state, desired, mac, memory_mib, vcpus, host_id)
     VALUES ('i-1', 'web1', '00000000-0000-4000-8000-000000000001', 'hello-web', '1.0.0', 'running', 'running', '52:54:00:00:00:01', 128, 1, 'host-1')`,
  );
});

afterEach(async () => {
  await db.close();
  await rm(dir, { recursive: true, force: true });
});

describe('serialFor', () => {
  it('is storm-vol-NAME when it fits virtio-blk’s 20 bytes, else a stable hash of the name', () => {
    expect(serialFor('data1')).toBe('storm-vol-data1');
    expect(serialFor('0123456789')).toBe('storm-vol-0123456789');
    const long = serialFor('postgres-data-for-the-wiki');
    expect(long).toMatch(/^storm-vol-[0-9a-f]{10}$/);
    expect(serialFor('postgres-data-for-the-wiki')).toBe(long);
    expect(serialFor('postgres-data-for-the-wikj')).not.toBe(long);
  });
});

describe('VolumeStore', () => {
  it('attaches a volume to one instance at a time', async () => {
    await store.insert(db, { name: 'data1', hostId: 'host-1', sizeMiB: 64, serial: serialFor('data1') });
    expect(await store.attach(db, 'data1', 'i-1')).toBe(true);
    expect(await store.attach(db, 'data1', 'i-1')).toBe(false);
    expect(await store.view('data1')).toMatchObject({ host: 'h1', instance: 'web1', instanceId: 'i-1', format: 'qcow2' });
    await store.detach(db, 'data1', 'i-other');
    expect((await store.get('data1'))?.instance_id).toBe('i-1');
    await store.detach(db, 'data1', 'i-1');
    expect((await store.get('data1'))?.instance_id).toBeNull();
  });

  it('keeps the volume when its instance’s record goes, attached to nothing', async () => {
    await store.insert(db, { name: 'data1', hostId: 'host-1', sizeMiB: 64, serial: serialFor('data1') });
    await store.attach(db, 'data1', 'i-1');
    await db.run("DELETE FROM instances WHERE id = 'i-1'");
    expect(await store.list()).toEqual([expect.objectContaining({ name: 'data1', instance: null, instanceId: null })]);
  });

  it('refuses a second volume of the same name or serial', async () => {
    await store.insert(db, { name: 'data1', hostId: 'host-1', sizeMiB: 64, serial: serialFor('data1') });
    await expect(store.insert(db, { name: 'data1', hostId: 'host-1', sizeMiB: 64, serial: 'other' })).rejects.toThrow(/UNIQUE/);
    await expect(store.insert(db, { name: 'data2', hostId: 'host-1', sizeMiB: 64, serial: serialFor('data1') })).rejects.toThrow(/UNIQUE/);
  });
});
