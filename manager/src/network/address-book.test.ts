import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { managerConfig } from '../config.js';
import { Database } from '../db/database.js';
import { migrate } from '../db/migrations.js';
import { InstanceStore } from '../instances/instance-store.js';
import { Journal } from '../operations/journal.js';
import { leasedAddresses, SqliteLeaseStore } from '../protocols/dhcp/sqlite-lease-store.js';
import { AddressBook } from './address-book.js';
import { networkSettings } from './network-settings.js';

let dir: string;
let db: Database;
let journal: Journal;
let forgotten: string[];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'storm-addresses-'));
  db = await Database.open(join(dir, 'storm.db'));
  await migrate(db);
  journal = new Journal(db, {});
  forgotten = [];
});
afterEach(async () => {
  await db.close();
  await rm(dir, { recursive: true, force: true });
});

const addressBook = (network: string | null, pool = '') =>
  new AddressBook({
    db,
    net: network ? networkSettings(managerConfig({ network, dhcpPool: pool })) : null,
    instances: new InstanceStore(db),
    leased: leasedAddresses,
    forgetLease: async (mac) => void forgotten.push(mac),
  });
const book = (network = '10.77.0.0/29', pool = '') => {
  const b = addressBook(network, pool);
  journal.define(b.allocate, b.release);
  return b;
};

/** An instance's record as a launch reserves it, with an address already when `ip` is given. */
async function instance(id: string, mac: string, ip: string | null = null): Promise<void> {
  const store = new InstanceStore(db);
  const row = {
    id,
    name: id,
    uuid: `u-${id}`,
    channel_id: null,
    appliance: 'a',
    version: '1',
    host_id: null,
    mac,
    memory_mib: 64,
    vcpus: 1,
    params: '{}',
    token_hash: null,
    guest_spec: '{}',
  };
  await db.transaction(async (tx) => {
    await store.insert(tx, row, []);
    if (ip) await store.setAddress(tx, id, ip);
  });
}
const ipOf = async (id: string) => (await new InstanceStore(db).get(id))?.ip;

describe('AddressBook', () => {
  it('gives the lowest address no instance, no lease and no pool holds, past the manager', async () => {
    const b = book('10.77.0.0/28', '10.77.0.5-10.77.0.6');
    await instance('i-1', '52:54:00:00:00:01', '10.77.0.2');
    await instance('i-2', '52:54:00:00:00:02');
    await new SqliteLeaseStore(db).put({
      mac: 'aa:bb:cc:dd:ee:ff',
      ip: '10.77.0.3',
      hostname: null,
      clientId: null,
      expiresAt: Date.now() + 3_600_000,
    });
    await journal.perform({ kind: 'test-address' }, (op) => op.commit(b.allocate, { instanceId: 'i-2', mac: '52:54:00:00:00:02' }));
    // .1 is the manager, .2 an instance's, .3 a lease's: .4.
    expect(await ipOf('i-2')).toBe('10.77.0.4');
    await instance('i-3', '52:54:00:00:00:03');
    await journal.perform({ kind: 'test-address' }, (op) => op.commit(b.allocate, { instanceId: 'i-3', mac: '52:54:00:00:00:03' }));
    expect(await ipOf('i-3')).toBe('10.77.0.7'); // .5 and .6 are the pool's
  });

  it('is undone with the operation: no address on the row, the lease forgotten', async () => {
    const b = book();
    await instance('i-1', '52:54:00:00:00:01');
    await expect(
      journal.perform({ kind: 'test-address' }, async (op) => {
        await op.commit(b.allocate, { instanceId: 'i-1', mac: '52:54:00:00:00:01' });
        expect(await ipOf('i-1')).toBe('10.77.0.2');
        throw new Error('a later step fails');
      }),
    ).rejects.toThrow('a later step fails');
    expect(await ipOf('i-1')).toBeNull();
    expect(forgotten).toEqual(['52:54:00:00:00:01']);
  });

  it('fails a full network with MGR_ERR_NO_CAPACITY, and has nothing to give without one', async () => {
    const b = book('10.77.0.0/29');
    for (let n = 1; n <= 6; n++) await instance(`i-${n}`, `52:54:00:00:00:0${n}`, n === 6 ? null : `10.77.0.${n + 1}`);
    await expect(
      journal.perform({ kind: 'test-address' }, (op) => op.commit(b.allocate, { instanceId: 'i-6', mac: '52:54:00:00:00:06' })),
    ).rejects.toMatchObject({ code: 'MGR_ERR_NO_CAPACITY' });
    expect(addressBook(null).enabled).toBe(false);
  });
});
