/**
 * What the rest of the manager tells the realm, one call per event: a directory user's password was
 * set, a user went, an instance was launched, an instance went. Launch, destroy and the directory
 * call these and nothing else of Kerberos, so each call can become one step of a multi-step
 * operation (with its undo: `instanceAdded` ↔ `instanceRemoved`).
 *
 * @example
 * await principals.userPasswordSet('alice', 'wonderland-2026'); // alice@STORM.INTERNAL, same password
 * await principals.instanceAdded({ name: 'web1', services: ['HTTP'] }); // host/ and HTTP/web1.storm.internal
 * await principals.instanceRemoved('web1');
 */

/** The directory's side: users' principals follow their passwords. */
export interface UserPrincipalSync {
  /** Throws when the password cannot be a Kerberos password, before anything is written. */
  checkPassword(password: string): void;
  /** `uid@REALM` exists with exactly this password (created, or its keys changed). */
  userPasswordSet(uid: string, password: string): Promise<void>;
  /** `uid@REALM` is gone; never throws (a failure is logged and the next prune removes it). */
  userRemoved(uid: string): Promise<void>;
}

/** The instances' side: `host/<fqdn>` and the descriptor's service principals. */
export interface InstancePrincipalSync {
  /** Creates the instance's principals with fresh random keys; returns their names. */
  instanceAdded(inst: { readonly name: string; readonly services: readonly string[] }): Promise<string[]>;
  /** Every principal of the instance is gone; never throws (the next prune retries). */
  instanceRemoved(name: string): Promise<void>;
}

export type PrincipalSync = UserPrincipalSync & InstancePrincipalSync;
