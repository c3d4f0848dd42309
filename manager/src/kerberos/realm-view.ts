/**
 * What the API, the CLI and the console show of the realm: the KDC's state, each directory user's
 * principal (or why there is none) and each instance's principals. Users created before the realm
 * existed have no principal until their next password change: the manager never had their password
 * in clear, only its hash.
 *
 * @example
 * realmView(kerberos.status(), await kerberos.principals(), users, instances);
 * // { enabled: true, realm: 'STORM.INTERNAL', kdc: { state: 'running', … }, users: [{ uid: 'alice', principal: 'alice@STORM.INTERNAL' }], … }
 */
import type { RealmUserView, RealmView } from '../../protocol/index.js';
import type { KdcStatus } from './kdc-supervisor.js';
import type { RealmPrincipals } from './kerberos-service.js';

export function realmView(
  status: { realm: string; listen: string; kdc: KdcStatus },
  found: RealmPrincipals,
  users: readonly { uid: string; hasPassword: boolean }[],
  instances: readonly string[],
): RealmView {
  const byUid = new Map(found.users.map((p) => [p.replace(/@[^@]*$/, ''), p]));
  const userViews = users.map((u): RealmUserView => {
    const principal = byUid.get(u.uid) ?? null;
    if (principal) return { uid: u.uid, principal };
    return { uid: u.uid, principal: null, missing: u.hasPassword ? 'password-predates-realm' : 'no-password' };
  });
  return {
    enabled: true,
    realm: status.realm,
    listen: status.listen,
    kdc: status.kdc,
    users: userViews,
    instances: instances.map((name) => ({ name, principals: found.instances[name] ?? [] })),
    // Principals of users or instances that are gone wait for the next reconcile's prune; shown as other.
    other: [
      ...found.other,
      ...found.users.filter((p) => !users.some((u) => byUid.get(u.uid) === p)),
      ...Object.entries(found.instances)
        .filter(([n]) => !instances.includes(n))
        .flatMap(([, ps]) => ps),
    ],
    usersWithoutPrincipal: userViews.filter((u) => u.missing === 'password-predates-realm').map((u) => u.uid),
  };
}
