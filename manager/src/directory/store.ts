/**
 * The directory: users, groups and memberships in sqlite, passwords as salted scrypt hashes, and
 * the read-only bind accounts appliances get at launch. The REST routes write through it; the
 * LDAP server reads a cached snapshot and checks binds with `authenticate`.
 *
 * @example
 * const dir = new DirectoryStore(db);
 * await dir.createUser({ uid: 'alice', givenName: 'Alice', sn: 'Liddell', mail: 'alice@storm.internal', password: 's3cret-pw' });
 * await dir.createGroup({ name: 'mail', members: ['alice'] });
 * await dir.authenticate({ kind: 'user', name: 'alice' }, 's3cret-pw'); // true
 * const { password } = await dir.issueServiceAccount('mx1', { owner: 'i-123' }); // seeded into the guest
 */
import type { Database, Queryable } from '../db/database.js';
import type { UserPrincipalSync } from '../kerberos/principal-sync.js';
import { MgrErr } from '../errors.js';
import { PasswordHasher, generateSecret, hashSecret, verifySecret } from './password.js';
import {
  constraintError,
  GROUP_COLUMNS,
  type GroupRow,
  groupView,
  indexMembers,
  type MemberRow,
  SERVICE_COLUMNS,
  type ServiceRow,
  serviceView,
  USER_COLUMNS,
  type UserRow,
  userView,
} from './rows.js';
import type {
  BindPrincipal,
  DirectoryGroup,
  DirectorySnapshot,
  DirectoryUser,
  GroupPatch,
  IssuedServiceAccount,
  NewGroup,
  NewUser,
  ServiceAccount,
  UserPatch,
} from './types.js';
import {
  checkGroupName,
  checkId,
  checkMail,
  checkPassword,
  checkPath,
  checkPrimaryGid,
  checkServiceName,
  checkText,
  checkUid,
  ID_MAX,
} from './validate.js';

export interface DirectoryStoreOptions {
  readonly hasher?: PasswordHasher;
  /** Allocation starts here, above the guests' own accounts. Default 10000. */
  readonly firstUidNumber?: number;
  readonly firstGidNumber?: number;
  /** A new user's primary group when none is given. Default 100 (`users` on Debian and busybox). */
  readonly defaultGidNumber?: number;
  /**
   * The Kerberos realm, when the manager runs one: a user's principal gets the password whenever the
   * directory does (only the hash is stored here, so this is the one moment the KDC can learn it).
   */
  readonly principals?: UserPrincipalSync;
}

const NOW = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

export class DirectoryStore {
  readonly hasher: PasswordHasher;
  private readonly firstUid: number;
  private readonly firstGid: number;
  private readonly defaultGid: number;
  private version = 1;
  private cached: { version: number; snapshot: Promise<DirectorySnapshot> } | undefined;
  private readonly listeners = new Set<() => void>();
  private readonly principals: UserPrincipalSync | undefined;

  constructor(
    private readonly db: Database,
    options: DirectoryStoreOptions = {},
  ) {
    this.principals = options.principals;
    this.hasher = options.hasher ?? new PasswordHasher();
    this.firstUid = checkId(options.firstUidNumber ?? 10_000, 'firstUidNumber');
    this.firstGid = checkId(options.firstGidNumber ?? 10_000, 'firstGidNumber');
    this.defaultGid = checkPrimaryGid(options.defaultGidNumber ?? 100);
  }

  // ── users ──────────────────────────────────────────────────────────────────────────────

  async listUsers(): Promise<DirectoryUser[]> {
    const rows = await this.db.all<UserRow>(`SELECT ${USER_COLUMNS} FROM directory_users ORDER BY uid`);
    const { byUser } = indexMembers(await this.db.all<MemberRow>('SELECT group_name, uid FROM directory_members'));
    return rows.map((r) => userView(r, byUser.get(r.uid) ?? []));
  }

  async getUser(uid: string): Promise<DirectoryUser> {
    const row = await this.db.get<UserRow>(`SELECT ${USER_COLUMNS} FROM directory_users WHERE uid = ?`, [uid]);
    if (!row) throw MgrErr.MGR_ERR_NOT_FOUND(`user ${uid}`);
    const groups = await this.db.all<{ group_name: string }>('SELECT group_name FROM directory_members WHERE uid = ?', [uid]);
    return userView(
      row,
      groups.map((g) => g.group_name),
    );
  }

  async createUser(input: NewUser): Promise<DirectoryUser> {
    const uid = checkUid(input.uid);
    const sn = checkText(input.sn ?? uid, 'sn');
    const givenName = input.givenName === undefined ? null : checkText(input.givenName, 'givenName');
    const cn = checkText(input.cn ?? (givenName && input.sn ? `${givenName} ${sn}` : uid), 'cn');
    const mail = input.mail === undefined ? null : checkMail(input.mail);
    const uidNumber = input.uidNumber === undefined ? undefined : checkId(input.uidNumber, 'uidNumber');
    const gidNumber = checkPrimaryGid(input.gidNumber ?? this.defaultGid);
    const home = checkPath(input.homeDirectory ?? `/home/${uid}`, 'homeDirectory');
    const shell = checkPath(input.loginShell ?? '/bin/sh', 'loginShell');
    const groups = [...new Set((input.groups ?? []).map(checkGroupName))];
    if (input.password !== undefined) this.principals?.checkPassword(checkPassword(input.password));
    // The slow hash runs before the transaction so it never holds the database lock.
    const hash = input.password === undefined ? null : await this.hasher.hash(checkPassword(input.password));
    await this.write(async (tx) => {
      const number = uidNumber ?? (await this.nextNumber(tx, 'directory_users', 'uid_number', this.firstUid, 'uidNumber'));
      await tx.run(
        'INSERT INTO directory_users (uid, uid_number, gid_number, cn, sn, given_name, mail, home_directory, login_shell, password_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        [uid, number, gidNumber, cn, sn, givenName, mail, home, shell, hash],
      );
      for (const group of groups) await this.join(tx, group, uid);
    });
    if (input.password !== undefined && this.principals) {
      try {
        await this.principals.userPasswordSet(uid, input.password);
      } catch (err) {
        // A user whose Kerberos password could not be set is not half-created: the row goes again.
        await this.write((tx) => tx.run('DELETE FROM directory_users WHERE uid = ?', [uid]).then(() => undefined));
        throw err;
      }
    }
    return this.getUser(uid);
  }

  async updateUser(uid: string, patch: UserPatch): Promise<DirectoryUser> {
    const sets: string[] = [];
    const params: (string | number | null)[] = [];
    const set = (column: string, value: string | number | null) => {
      sets.push(`${column} = ?`);
      params.push(value);
    };
    if (patch.cn !== undefined) set('cn', checkText(patch.cn, 'cn'));
    if (patch.sn !== undefined) set('sn', checkText(patch.sn, 'sn'));
    if (patch.givenName !== undefined) set('given_name', patch.givenName === null ? null : checkText(patch.givenName, 'givenName'));
    if (patch.mail !== undefined) set('mail', patch.mail === null ? null : checkMail(patch.mail));
    if (patch.gidNumber !== undefined) set('gid_number', checkPrimaryGid(patch.gidNumber));
    if (patch.homeDirectory !== undefined) set('home_directory', checkPath(patch.homeDirectory, 'homeDirectory'));
    if (patch.loginShell !== undefined) set('login_shell', checkPath(patch.loginShell, 'loginShell'));
    if (typeof patch.password === 'string') this.principals?.checkPassword(checkPassword(patch.password));
    if (patch.password !== undefined)
      set('password_hash', patch.password === null ? null : await this.hasher.hash(checkPassword(patch.password)));
    // The hash before the change, so a refused Kerberos password leaves the user as they were.
    const before =
      patch.password !== undefined && this.principals
        ? await this.db.get<{ password_hash: string | null }>('SELECT password_hash FROM directory_users WHERE uid = ?', [uid])
        : undefined;
    await this.write(async (tx) => {
      const res = await tx.run(`UPDATE directory_users SET ${[...sets, `updated_at = ${NOW}`].join(', ')} WHERE uid = ?`, [...params, uid]);
      if (res.changes === 0) throw MgrErr.MGR_ERR_NOT_FOUND(`user ${uid}`);
    });
    if (patch.password === null) await this.principals?.userRemoved(uid);
    else if (patch.password !== undefined && this.principals) {
      try {
        await this.principals.userPasswordSet(uid, patch.password);
      } catch (err) {
        await this.write((tx) =>
          tx.run('UPDATE directory_users SET password_hash = ? WHERE uid = ?', [before?.password_hash ?? null, uid]).then(() => undefined),
        );
        throw err;
      }
    }
    return this.getUser(uid);
  }

  async deleteUser(uid: string): Promise<void> {
    await this.write(async (tx) => {
      const res = await tx.run('DELETE FROM directory_users WHERE uid = ?', [uid]);
      if (res.changes === 0) throw MgrErr.MGR_ERR_NOT_FOUND(`user ${uid}`);
    });
    await this.principals?.userRemoved(uid);
  }

  // ── groups ─────────────────────────────────────────────────────────────────────────────

  async listGroups(): Promise<DirectoryGroup[]> {
    const rows = await this.db.all<GroupRow>(`SELECT ${GROUP_COLUMNS} FROM directory_groups ORDER BY name`);
    const { byGroup } = indexMembers(await this.db.all<MemberRow>('SELECT group_name, uid FROM directory_members'));
    return rows.map((r) => groupView(r, byGroup.get(r.name) ?? []));
  }

  async getGroup(name: string): Promise<DirectoryGroup> {
    const row = await this.db.get<GroupRow>(`SELECT ${GROUP_COLUMNS} FROM directory_groups WHERE name = ?`, [name]);
    if (!row) throw MgrErr.MGR_ERR_NOT_FOUND(`group ${name}`);
    const members = await this.db.all<{ uid: string }>('SELECT uid FROM directory_members WHERE group_name = ?', [name]);
    return groupView(
      row,
      members.map((m) => m.uid),
    );
  }

  async createGroup(input: NewGroup): Promise<DirectoryGroup> {
    const name = checkGroupName(input.name);
    const gidNumber = input.gidNumber === undefined ? undefined : checkId(input.gidNumber, 'gidNumber');
    const description = input.description === undefined ? null : checkText(input.description, 'description');
    const members = [...new Set((input.members ?? []).map(checkUid))];
    await this.write(async (tx) => {
      const number = gidNumber ?? (await this.nextNumber(tx, 'directory_groups', 'gid_number', this.firstGid, 'gidNumber'));
      await tx.run('INSERT INTO directory_groups (name, gid_number, description) VALUES (?, ?, ?)', [name, number, description]);
      for (const uid of members) await this.join(tx, name, uid);
    });
    return this.getGroup(name);
  }

  async updateGroup(name: string, patch: GroupPatch): Promise<DirectoryGroup> {
    const sets: string[] = [`updated_at = ${NOW}`];
    const params: (string | number | null)[] = [];
    if (patch.gidNumber !== undefined) {
      sets.push('gid_number = ?');
      params.push(checkId(patch.gidNumber, 'gidNumber'));
    }
    if (patch.description !== undefined) {
      sets.push('description = ?');
      params.push(patch.description === null ? null : checkText(patch.description, 'description'));
    }
    await this.write(async (tx) => {
      const res = await tx.run(`UPDATE directory_groups SET ${sets.join(', ')} WHERE name = ?`, [...params, name]);
      if (res.changes === 0) throw MgrErr.MGR_ERR_NOT_FOUND(`group ${name}`);
    });
    return this.getGroup(name);
  }

  async deleteGroup(name: string): Promise<void> {
    await this.write(async (tx) => {
      const res = await tx.run('DELETE FROM directory_groups WHERE name = ?', [name]);
      if (res.changes === 0) throw MgrErr.MGR_ERR_NOT_FOUND(`group ${name}`);
    });
  }

  /** Adds `uid` to `group`; adding a member twice is not an error. */
  async addMember(group: string, uid: string): Promise<DirectoryGroup> {
    await this.write((tx) => this.join(tx, group, uid));
    return this.getGroup(group);
  }

  async removeMember(group: string, uid: string): Promise<DirectoryGroup> {
    await this.write(async (tx) => {
      await this.requireGroup(tx, group);
      const res = await tx.run('DELETE FROM directory_members WHERE group_name = ? AND uid = ?', [group, uid]);
      if (res.changes === 0) throw MgrErr.MGR_ERR_NOT_FOUND(`${uid} is not a member of ${group}`);
    });
    return this.getGroup(group);
  }

  // ── service accounts ───────────────────────────────────────────────────────────────────

  async listServiceAccounts(): Promise<ServiceAccount[]> {
    return (await this.db.all<ServiceRow>(`SELECT ${SERVICE_COLUMNS} FROM directory_services ORDER BY name`)).map(serviceView);
  }

  /**
   * Creates the read-only bind account `cn=<name>,ou=services,…`, or gives an existing one a new
   * password (the old one stops working). The password is returned here and nowhere else.
   */
  async issueServiceAccount(name: string, options: { owner?: string; description?: string } = {}): Promise<IssuedServiceAccount> {
    checkServiceName(name);
    const description = options.description === undefined ? null : checkText(options.description, 'description');
    const password = generateSecret();
    await this.write(async (tx) => {
      await tx.run(
        `INSERT INTO directory_services (name, owner, description, secret_hash) VALUES (?, ?, ?, ?)
         ON CONFLICT(name) DO UPDATE SET owner = excluded.owner, description = excluded.description, secret_hash = excluded.secret_hash, created_at = ${NOW}`,
        [name, options.owner ?? null, description, hashSecret(password)],
      );
    });
    const row = await this.db.get<ServiceRow>(`SELECT ${SERVICE_COLUMNS} FROM directory_services WHERE name = ?`, [name]);
    return { ...serviceView(row!), password };
  }

  /** Removes the account; false when there was none (so undo and destroy may call it blindly). */
  async deleteServiceAccount(name: string): Promise<boolean> {
    let removed = false;
    await this.write(async (tx) => {
      removed = (await tx.run('DELETE FROM directory_services WHERE name = ?', [name])).changes > 0;
    });
    return removed;
  }

  /** Removes accounts issued for instances that no longer exist (reconcile); returns their names. */
  async pruneServiceAccounts(liveOwners: Iterable<string>): Promise<string[]> {
    const live = new Set(liveOwners);
    const owned = await this.db.all<{ name: string; owner: string }>('SELECT name, owner FROM directory_services WHERE owner IS NOT NULL');
    const stale = owned.filter((r) => !live.has(r.owner)).map((r) => r.name);
    if (stale.length) {
      await this.write(async (tx) => {
        for (const name of stale) await tx.run('DELETE FROM directory_services WHERE name = ?', [name]);
      });
    }
    return stale;
  }

  // ── what the LDAP server reads ─────────────────────────────────────────────────────────

  /**
   * True when `password` is the principal's. Unknown principals (and `null`, a DN that names no
   * account) cost as much as a user's check and are false, so timing does not reveal accounts.
   */
  async authenticate(principal: BindPrincipal | null, password: string): Promise<boolean> {
    if (principal === null) return this.hasher.verify(password, null);
    if (principal.kind === 'service') {
      const row = await this.db.get<{ secret_hash: string }>('SELECT secret_hash FROM directory_services WHERE name = ?', [principal.name]);
      return verifySecret(password, row?.secret_hash ?? null);
    }
    const row = await this.db.get<{ password_hash: string | null }>('SELECT password_hash FROM directory_users WHERE uid = ?', [
      principal.name,
    ]);
    return this.hasher.verify(password, row?.password_hash ?? null);
  }

  /** The whole directory without secrets; reused until the next change. */
  snapshot(): Promise<DirectorySnapshot> {
    if (this.cached?.version === this.version) return this.cached.snapshot;
    const version = this.version;
    const snapshot = this.load(version);
    this.cached = { version, snapshot };
    snapshot.catch(() => {
      if (this.cached?.snapshot === snapshot) this.cached = undefined;
    });
    return snapshot;
  }

  /** Calls `listener` after every committed change; returns the unsubscribe. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ── internals ──────────────────────────────────────────────────────────────────────────

  private async load(version: number): Promise<DirectorySnapshot> {
    // One transaction so users, groups and memberships agree with each other.
    return this.db.transaction(async (tx) => {
      const users = await tx.all<UserRow>(`SELECT ${USER_COLUMNS} FROM directory_users ORDER BY uid`);
      const groups = await tx.all<GroupRow>(`SELECT ${GROUP_COLUMNS} FROM directory_groups ORDER BY name`);
      const { byGroup, byUser } = indexMembers(await tx.all<MemberRow>('SELECT group_name, uid FROM directory_members'));
      const services = await tx.all<ServiceRow>(`SELECT ${SERVICE_COLUMNS} FROM directory_services ORDER BY name`);
      return {
        version,
        users: users.map((r) => userView(r, byUser.get(r.uid) ?? [])),
        groups: groups.map((r) => groupView(r, byGroup.get(r.name) ?? [])),
        services: services.map(serviceView),
      };
    });
  }

  /** A write transaction with constraint failures mapped to catalog errors, then the change signal. */
  private async write(fn: (tx: Queryable) => Promise<void>): Promise<void> {
    try {
      await this.db.transaction(fn);
    } catch (err) {
      throw constraintError(err);
    }
    this.version++;
    for (const listener of this.listeners) {
      try {
        listener();
      } catch {
        // A listener's failure is its own; the write is committed.
      }
    }
  }

  private async nextNumber(tx: Queryable, table: string, column: string, first: number, what: string): Promise<number> {
    const row = await tx.get<{ n: number | null }>(`SELECT MAX(${column}) AS n FROM ${table} WHERE ${column} >= ?`, [first]);
    // Highest plus one, as useradd does: a number below the highest is never handed out again.
    const next = Math.max(row?.n ?? first - 1, first - 1) + 1;
    if (next > ID_MAX) throw MgrErr.MGR_ERR_CONFLICT(`no free ${what} above ${first}`);
    return next;
  }

  private async requireGroup(tx: Queryable, group: string): Promise<void> {
    if (!(await tx.get('SELECT 1 FROM directory_groups WHERE name = ?', [group]))) throw MgrErr.MGR_ERR_NOT_FOUND(`group ${group}`);
  }

  private async join(tx: Queryable, group: string, uid: string): Promise<void> {
    await this.requireGroup(tx, group);
    if (!(await tx.get('SELECT 1 FROM directory_users WHERE uid = ?', [uid]))) throw MgrErr.MGR_ERR_NOT_FOUND(`user ${uid}`);
    await tx.run('INSERT OR IGNORE INTO directory_members (group_name, uid) VALUES (?, ?)', [group, uid]);
  }
}
