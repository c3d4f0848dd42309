/**
 * A directory on a fresh sqlite file with a known population, for unit and integration tests.
 *
 * @example
 * const t = await openTestDirectory();
 * const { mx1 } = await populate(t.store); // mx1: the service account's password
 * await t.close();
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Database } from '../../db/database.js';
import { PasswordHasher, type ScryptCost } from '../password.js';
import { DIRECTORY_SQL } from '../../db/migrations.js';
import { DirectoryStore } from '../store.js';

export interface TestDirectory {
  readonly db: Database;
  readonly store: DirectoryStore;
  close(): Promise<void>;
}

export async function openTestDirectory(options: { cost?: ScryptCost } = {}): Promise<TestDirectory> {
  const dir = await mkdtemp(join(tmpdir(), 'storm-directory-'));
  const db = await Database.open(join(dir, 'storm.db'));
  await db.exec(DIRECTORY_SQL);
  const store = new DirectoryStore(db, { hasher: new PasswordHasher(options.cost ? { cost: options.cost } : {}) });
  return {
    db,
    store,
    async close() {
      await db.close().catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export const PASSWORDS = { alice: 'alice-password-1', bob: 'bob-password-22', eve: 'eve-password-333' } as const;

/** alice and bob (mail users), carol (no password), eve; groups mail, staff, empty; service account mx1. */
export async function populate(store: DirectoryStore): Promise<{ mx1: string }> {
  await store.createUser({ uid: 'alice', givenName: 'Alice', sn: 'Liddell', mail: 'alice@storm.internal', password: PASSWORDS.alice });
  await store.createUser({
    uid: 'bob',
    givenName: 'Bob',
    sn: 'Builder',
    mail: 'Bob@Storm.Internal',
    password: PASSWORDS.bob,
    loginShell: '/bin/bash',
  });
  await store.createUser({ uid: 'carol', cn: 'Carol Ann', sn: 'Ann' });
  await store.createUser({ uid: 'eve', sn: 'Dropper', mail: 'eve@example.org', password: PASSWORDS.eve });
  await store.createGroup({ name: 'mail', members: ['alice', 'bob'], description: 'Mail users' });
  await store.createGroup({ name: 'staff', members: ['alice'] });
  await store.createGroup({ name: 'empty' });
  const mx1 = await store.issueServiceAccount('mx1', { owner: 'i-mx1', description: 'Postfix on mx1' });
  return { mx1: mx1.password };
}
