/** The directory tables' rows and their mapping to the views in types.ts (hashes never cross). */
import { errorMessage } from '../../../common/errors.js';
import { MgrErr } from '../errors.js';
import type { DirectoryGroup, DirectoryUser, ServiceAccount } from './types.js';

export interface UserRow {
  uid: string;
  uid_number: number;
  gid_number: number;
  cn: string;
  sn: string;
  given_name: string | null;
  mail: string | null;
  home_directory: string;
  login_shell: string;
  has_password: number;
  created_at: string;
  updated_at: string;
}

export interface GroupRow {
  name: string;
  gid_number: number;
  description: string | null;
  created_at: string;
  updated_at: string;
}

export interface ServiceRow {
  name: string;
  owner: string | null;
  description: string | null;
  created_at: string;
}

export interface MemberRow {
  group_name: string;
  uid: string;
}

/** Every column but the hash, plus whether there is one. */
export const USER_COLUMNS =
  'uid, uid_number, gid_number, cn, sn, given_name, mail, home_directory, login_shell, password_hash IS NOT NULL AS has_password, created_at, updated_at';
export const GROUP_COLUMNS = 'name, gid_number, description, created_at, updated_at';
export const SERVICE_COLUMNS = 'name, owner, description, created_at';

export function userView(row: UserRow, memberOf: readonly string[]): DirectoryUser {
  return {
    uid: row.uid,
    uidNumber: row.uid_number,
    gidNumber: row.gid_number,
    cn: row.cn,
    sn: row.sn,
    givenName: row.given_name,
    mail: row.mail,
    homeDirectory: row.home_directory,
    loginShell: row.login_shell,
    hasPassword: row.has_password === 1,
    memberOf: [...memberOf].sort(),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function groupView(row: GroupRow, members: readonly string[]): DirectoryGroup {
  return {
    name: row.name,
    gidNumber: row.gid_number,
    description: row.description,
    members: [...members].sort(),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function serviceView(row: ServiceRow): ServiceAccount {
  return { name: row.name, owner: row.owner, description: row.description, createdAt: row.created_at };
}

/** group → uids and uid → groups from the membership rows. */
export function indexMembers(rows: readonly MemberRow[]): { byGroup: Map<string, string[]>; byUser: Map<string, string[]> } {
  const byGroup = new Map<string, string[]>();
  const byUser = new Map<string, string[]>();
  for (const { group_name, uid } of rows) {
    (byGroup.get(group_name) ?? byGroup.set(group_name, []).get(group_name)!).push(uid);
    (byUser.get(uid) ?? byUser.set(uid, []).get(uid)!).push(group_name);
  }
  return { byGroup, byUser };
}

const UNIQUE: Record<string, string> = {
  'directory_users.uid': 'a user with that uid exists',
  'directory_users.uid_number': 'that uidNumber belongs to another user',
  'directory_users.mail': 'that mail address belongs to another user',
  'directory_groups.name': 'a group with that name exists',
  'directory_groups.gid_number': 'that gidNumber belongs to another group',
};

/** sqlite's constraint failures as catalog errors; anything else is rethrown as is. */
export function constraintError(err: unknown): unknown {
  const msg = errorMessage(err);
  const m = /UNIQUE constraint failed: (\S+)/.exec(msg);
  if (m && UNIQUE[m[1]!]) return MgrErr.MGR_ERR_CONFLICT(UNIQUE[m[1]!]);
  if (/FOREIGN KEY constraint failed/.test(msg)) return MgrErr.MGR_ERR_NOT_FOUND('a referenced user or group does not exist');
  return err;
}
