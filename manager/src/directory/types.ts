/** The directory's records as callers see them: never a password or a hash. */

export interface DirectoryUser {
  readonly uid: string;
  readonly uidNumber: number;
  readonly gidNumber: number;
  readonly cn: string;
  readonly sn: string;
  readonly givenName: string | null;
  readonly mail: string | null;
  readonly homeDirectory: string;
  readonly loginShell: string;
  /** False: the user exists but cannot bind (no password set). */
  readonly hasPassword: boolean;
  /** Names of the groups the user is a member of, sorted. */
  readonly memberOf: readonly string[];
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface NewUser {
  readonly uid: string;
  /** Default: "givenName sn" when both are given, else the uid. */
  readonly cn?: string;
  /** Default: the uid (inetOrgPerson requires a surname). */
  readonly sn?: string;
  readonly givenName?: string;
  readonly mail?: string;
  /** Default: the next free number from `firstUidNumber`. */
  readonly uidNumber?: number;
  /** Default: `defaultGidNumber` (100, the guests' `users` group). */
  readonly gidNumber?: number;
  /** Default: /home/<uid>. */
  readonly homeDirectory?: string;
  /** Default: /bin/sh (present on every substrate, busybox included). */
  readonly loginShell?: string;
  /** Without one the user cannot bind until a password is set. */
  readonly password?: string;
  /** Groups to join; each must exist. */
  readonly groups?: readonly string[];
}

/** A field left out keeps its value; `null` clears an optional one (a `null` password disables binds). */
export interface UserPatch {
  readonly cn?: string;
  readonly sn?: string;
  readonly givenName?: string | null;
  readonly mail?: string | null;
  readonly gidNumber?: number;
  readonly homeDirectory?: string;
  readonly loginShell?: string;
  readonly password?: string | null;
}

export interface DirectoryGroup {
  readonly name: string;
  readonly gidNumber: number;
  readonly description: string | null;
  /** uids of the members, sorted. */
  readonly members: readonly string[];
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface NewGroup {
  readonly name: string;
  readonly gidNumber?: number;
  readonly description?: string;
  readonly members?: readonly string[];
}

export interface GroupPatch {
  readonly gidNumber?: number;
  readonly description?: string | null;
}

export interface ServiceAccount {
  readonly name: string;
  /** The instance id it was issued for; null for an account made by hand. */
  readonly owner: string | null;
  readonly description: string | null;
  readonly createdAt: string;
}

/** What `issueServiceAccount` returns once: the only time the password exists outside the guest. */
export interface IssuedServiceAccount extends ServiceAccount {
  readonly password: string;
}

/** Everything the LDAP server publishes, read in one go; no secrets in it. */
export interface DirectorySnapshot {
  /** Grows with every change; equal versions mean equal contents. */
  readonly version: number;
  readonly users: readonly DirectoryUser[];
  readonly groups: readonly DirectoryGroup[];
  readonly services: readonly ServiceAccount[];
}

/** Who a bind names, once the DN is mapped onto the tree. */
export interface BindPrincipal {
  readonly kind: 'user' | 'service';
  readonly name: string;
}
