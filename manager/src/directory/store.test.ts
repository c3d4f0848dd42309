import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTestDirectory, PASSWORDS, populate, type TestDirectory } from './test-support/fixtures.js';

let t: TestDirectory;

beforeEach(async () => {
  t = await openTestDirectory();
});
afterEach(() => t.close());

const code = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (err: { code?: string }) => err.code ?? String(err),
  );

describe('DirectoryStore users', () => {
  it('creates a user with defaults and allocated numbers, never exposing the hash', async () => {
    const alice = await t.store.createUser({ uid: 'alice', givenName: 'Alice', sn: 'Liddell', password: 'wonderland' });
    expect(alice).toMatchObject({
      uid: 'alice',
      cn: 'Alice Liddell',
      sn: 'Liddell',
      uidNumber: 10000,
      gidNumber: 100,
      homeDirectory: '/home/alice',
      loginShell: '/bin/sh',
      mail: null,
      hasPassword: true,
      memberOf: [],
    });
    expect(JSON.stringify(alice)).not.toMatch(/scrypt|wonderland|hash/);
    const bob = await t.store.createUser({ uid: 'bob' });
    expect([bob.uidNumber, bob.cn, bob.sn, bob.hasPassword]).toEqual([10001, 'bob', 'bob', false]);
    const row = await t.db.get<{ password_hash: string }>('SELECT password_hash FROM directory_users WHERE uid = ?', ['alice']);
    expect(row?.password_hash).toMatch(/^\$scrypt\$/);
  });

  it('allocates above the highest number, also past an explicit one', async () => {
    await t.store.createUser({ uid: 'a', uidNumber: 20000 });
    expect((await t.store.createUser({ uid: 'b' })).uidNumber).toBe(20001);
    await t.store.createUser({ uid: 'low', uidNumber: 5000 });
    expect((await t.store.createUser({ uid: 'c' })).uidNumber).toBe(20002);
  });

  it('refuses bad names and values with MGR_ERR_VALIDATION', async () => {
    for (const input of [
      { uid: 'Alice' },
      { uid: '1abc' },
      { uid: 'a'.repeat(33) },
      { uid: 'a b' },
      { uid: 'a*' },
      { uid: 'x', mail: 'not-an-address' },
      { uid: 'x', mail: 'a@b@c' },
      { uid: 'x', uidNumber: 999 },
      { uid: 'x', homeDirectory: 'relative' },
      { uid: 'x', cn: 'line\nbreak' },
      { uid: 'x', password: 'short' },
      { uid: 'x', gidNumber: -1 },
    ]) {
      expect(await code(t.store.createUser(input)), JSON.stringify(input)).toBe('MGR_ERR_VALIDATION');
    }
  });

  it('answers conflicts for a taken uid, uidNumber or mail (mail without regard to case)', async () => {
    await t.store.createUser({ uid: 'alice', mail: 'alice@storm.internal', uidNumber: 12345 });
    expect(await code(t.store.createUser({ uid: 'alice' }))).toBe('MGR_ERR_CONFLICT');
    expect(await code(t.store.createUser({ uid: 'bob', uidNumber: 12345 }))).toBe('MGR_ERR_CONFLICT');
    expect(await code(t.store.createUser({ uid: 'bob', mail: 'ALICE@storm.internal' }))).toBe('MGR_ERR_CONFLICT');
    expect((await t.store.listUsers()).map((u) => u.uid)).toEqual(['alice']);
  });

  it('updates fields and the password, clears optional ones, 404s an unknown uid', async () => {
    await t.store.createUser({ uid: 'alice', givenName: 'Alice', mail: 'a@storm.internal', password: 'first-password' });
    const updated = await t.store.updateUser('alice', {
      cn: 'Alice L.',
      givenName: null,
      mail: 'alice@storm.internal',
      loginShell: '/bin/bash',
      password: 'second-password',
    });
    expect(updated).toMatchObject({
      cn: 'Alice L.',
      givenName: null,
      mail: 'alice@storm.internal',
      loginShell: '/bin/bash',
      hasPassword: true,
    });
    expect(await t.store.authenticate({ kind: 'user', name: 'alice' }, 'first-password')).toBe(false);
    expect(await t.store.authenticate({ kind: 'user', name: 'alice' }, 'second-password')).toBe(true);
    expect((await t.store.updateUser('alice', { password: null })).hasPassword).toBe(false);
    expect(await t.store.authenticate({ kind: 'user', name: 'alice' }, 'second-password')).toBe(false);
    expect(await code(t.store.updateUser('nobody', { cn: 'x' }))).toBe('MGR_ERR_NOT_FOUND');
  });

  it('deletes a user and its memberships', async () => {
    await populate(t.store);
    await t.store.deleteUser('alice');
    expect(await code(t.store.getUser('alice'))).toBe('MGR_ERR_NOT_FOUND');
    expect((await t.store.getGroup('mail')).members).toEqual(['bob']);
    expect(await code(t.store.deleteUser('alice'))).toBe('MGR_ERR_NOT_FOUND');
  });
});

describe('DirectoryStore groups', () => {
  it('creates groups with members, adds and removes members, shows memberOf', async () => {
    await populate(t.store);
    expect(await t.store.getGroup('mail')).toMatchObject({
      name: 'mail',
      gidNumber: 10000,
      description: 'Mail users',
      members: ['alice', 'bob'],
    });
    await t.store.addMember('staff', 'bob');
    await t.store.addMember('staff', 'bob');
    expect((await t.store.getUser('bob')).memberOf).toEqual(['mail', 'staff']);
    expect((await t.store.removeMember('staff', 'alice')).members).toEqual(['bob']);
    expect(await code(t.store.removeMember('staff', 'alice'))).toBe('MGR_ERR_NOT_FOUND');
    expect(await code(t.store.addMember('staff', 'nobody'))).toBe('MGR_ERR_NOT_FOUND');
    expect(await code(t.store.addMember('nogroup', 'bob'))).toBe('MGR_ERR_NOT_FOUND');
  });

  it('creates nothing when a member does not exist (one transaction)', async () => {
    await t.store.createUser({ uid: 'alice' });
    expect(await code(t.store.createGroup({ name: 'g', members: ['alice', 'ghost'] }))).toBe('MGR_ERR_NOT_FOUND');
    expect(await t.store.listGroups()).toEqual([]);
    expect(await code(t.store.createUser({ uid: 'bob', groups: ['ghost'] }))).toBe('MGR_ERR_NOT_FOUND');
    expect((await t.store.listUsers()).map((u) => u.uid)).toEqual(['alice']);
  });

  it('updates and deletes groups; gidNumber conflicts', async () => {
    await populate(t.store);
    expect(await t.store.updateGroup('empty', { gidNumber: 15000, description: null })).toMatchObject({
      gidNumber: 15000,
      description: null,
    });
    expect(await code(t.store.updateGroup('staff', { gidNumber: 15000 }))).toBe('MGR_ERR_CONFLICT');
    await t.store.deleteGroup('mail');
    expect((await t.store.getUser('alice')).memberOf).toEqual(['staff']);
    expect(await code(t.store.deleteGroup('mail'))).toBe('MGR_ERR_NOT_FOUND');
    expect(await code(t.store.createGroup({ name: 'Bad' }))).toBe('MGR_ERR_VALIDATION');
  });
});

describe('DirectoryStore service accounts', () => {
  it('issues a bind account with a generated password, rotates it, deletes it', async () => {
    const first = await t.store.issueServiceAccount('mx1', { owner: 'i-1' });
    expect(first).toMatchObject({ name: 'mx1', owner: 'i-1', description: null });
    expect(first.password).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await t.store.authenticate({ kind: 'service', name: 'mx1' }, first.password)).toBe(true);
    const second = await t.store.issueServiceAccount('mx1', { owner: 'i-2' });
    expect(await t.store.authenticate({ kind: 'service', name: 'mx1' }, first.password)).toBe(false);
    expect(await t.store.authenticate({ kind: 'service', name: 'mx1' }, second.password)).toBe(true);
    expect(await t.store.listServiceAccounts()).toEqual([{ name: 'mx1', owner: 'i-2', description: null, createdAt: expect.any(String) }]);
    expect(await t.store.deleteServiceAccount('mx1')).toBe(true);
    expect(await t.store.deleteServiceAccount('mx1')).toBe(false);
    expect(await t.store.authenticate({ kind: 'service', name: 'mx1' }, second.password)).toBe(false);
    expect(await code(t.store.issueServiceAccount('Not_A_Label'))).toBe('MGR_ERR_VALIDATION');
  });

  it('prunes accounts whose instance is gone and keeps hand-made ones', async () => {
    await t.store.issueServiceAccount('a', { owner: 'i-a' });
    await t.store.issueServiceAccount('b', { owner: 'i-b' });
    await t.store.issueServiceAccount('manual');
    expect(await t.store.pruneServiceAccounts(['i-b'])).toEqual(['a']);
    expect((await t.store.listServiceAccounts()).map((s) => s.name)).toEqual(['b', 'manual']);
  });
});

describe('DirectoryStore reads for LDAP', () => {
  it('authenticates users; unknown users and users without a password are refused', async () => {
    await populate(t.store);
    expect(await t.store.authenticate({ kind: 'user', name: 'alice' }, PASSWORDS.alice)).toBe(true);
    expect(await t.store.authenticate({ kind: 'user', name: 'alice' }, PASSWORDS.bob)).toBe(false);
    expect(await t.store.authenticate({ kind: 'user', name: 'carol' }, '')).toBe(false);
    expect(await t.store.authenticate({ kind: 'user', name: 'nobody' }, PASSWORDS.alice)).toBe(false);
    expect(await t.store.authenticate({ kind: 'service', name: 'alice' }, PASSWORDS.alice)).toBe(false);
  });

  it('serves one snapshot per version and signals every change', async () => {
    await populate(t.store);
    let changes = 0;
    const off = t.store.onChange(() => changes++);
    const a = await t.store.snapshot();
    expect(await t.store.snapshot()).toBe(a);
    expect(a.users.map((u) => u.uid)).toEqual(['alice', 'bob', 'carol', 'eve']);
    expect(a.groups.find((g) => g.name === 'mail')?.members).toEqual(['alice', 'bob']);
    expect(a.services.map((s) => s.name)).toEqual(['mx1']);
    expect(JSON.stringify(a)).not.toMatch(/scrypt|sha256|password_hash/);
    await t.store.addMember('empty', 'carol');
    expect(changes).toBe(1);
    const b = await t.store.snapshot();
    expect(b.version).toBeGreaterThan(a.version);
    expect(b.groups.find((g) => g.name === 'empty')?.members).toEqual(['carol']);
    off();
    await t.store.deleteUser('carol');
    expect(changes).toBe(1);
  });
});
