import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Database } from '../db/database.js';
import { migrate } from '../db/migrations.js';
import { ensureAdminUser, Users } from './users.js';

let dir: string;
let db: Database;
let users: Users;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'storm-users-'));
  db = await Database.open(join(dir, 'db'));
  await migrate(db);
  users = new Users(db);
});
afterEach(async () => {
  await db.close();
  await rm(dir, { recursive: true, force: true });
});

describe('ensureAdminUser', () => {
  it('generates the admin password once, stores only its hash, and reports it only that once', async () => {
    const first = await ensureAdminUser(users, '');
    expect(first).toMatchObject({ username: 'admin', source: 'generated' });
    expect(first.password).toMatch(/^[\w-]{24}$/);
    const row = await db.get<{ password_hash: string }>('SELECT password_hash FROM users');
    expect(row!.password_hash).not.toContain(first.password);
    expect(await users.verify('admin', first.password!)).toBe(true);
    const second = await ensureAdminUser(users, '');
    expect(second).toEqual({ username: 'admin', source: 'existing' });
    expect(await users.verify('admin', first.password!)).toBe(true);
  });

  it('sets the password from the first line of a file at every start (the reset path)', async () => {
    await ensureAdminUser(users, '');
    const file = join(dir, 'pw');
    await writeFile(file, 'from the file\nignored\n');
    expect(await ensureAdminUser(users, file)).toEqual({ username: 'admin', source: 'file', file });
    expect(await users.verify('admin', 'from the file')).toBe(true);
    await writeFile(file, 'short\n');
    await expect(ensureAdminUser(users, file)).rejects.toThrow(/8 to 1024 characters/);
  });

  it('refuses unknown users and wrong passwords alike', async () => {
    await users.setPassword('admin', 'password1');
    expect(await users.verify('admin', 'password2')).toBe(false);
    expect(await users.verify('nobody', 'password1')).toBe(false);
  });
});
