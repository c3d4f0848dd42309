/**
 * What an appliance gets to use the directory. At launch, one root-only file in its instance layer
 * with the server, the base and its own read-only bind account (the password exists nowhere else:
 * the database keeps a digest). In `storm.getConfig`, the same without the password, naming the
 * file that holds it, so nothing secret is ever served again from the database.
 *
 * @example
 * const account = await directory.issueServiceAccount('mx1', { owner: instanceId });
 * const files = serviceAccountSeed(account, { uri: 'ldap://storm.local:389', baseDn: 'dc=storm,dc=internal' });
 * // { '/etc/storm/ldap.json': { contentBase64, mode: 0o600 } }
 * guestDirectoryInfo('mx1', { uri: 'ldap://storm.local:389', baseDn: 'dc=storm,dc=internal' });
 * // { uri, base, people, groups, bindDn, bindPasswordFile: '/etc/storm/ldap.json' }
 */
import { groupsDn, peopleDn, serviceDn } from './layout.js';
import type { IssuedServiceAccount } from './types.js';

export const LDAP_SEED_PATH = '/etc/storm/ldap.json';

/** The file's contents; the guest reads it (its agent, or a Postfix `ldap:` table template). */
export interface LdapSeed {
  readonly uri: string;
  readonly base: string;
  readonly people: string;
  readonly groups: string;
  readonly bindDn: string;
  readonly bindPassword: string;
}

export function serviceAccountSeed(
  account: IssuedServiceAccount,
  options: { readonly uri: string; readonly baseDn: string },
): Record<string, { contentBase64: string; mode: number }> {
  const seed: LdapSeed = {
    uri: options.uri,
    base: options.baseDn,
    people: peopleDn(options.baseDn),
    groups: groupsDn(options.baseDn),
    bindDn: serviceDn(options.baseDn, account.name),
    bindPassword: account.password,
  };
  // 0600: the bind password is the only secret in it, readable by root alone.
  return { [LDAP_SEED_PATH]: { contentBase64: Buffer.from(`${JSON.stringify(seed, null, 2)}\n`).toString('base64'), mode: 0o600 } };
}

/** The `services.ldap` part of `storm.getConfig`: everything but the password, and where it is. */
export function guestDirectoryInfo(name: string, options: { readonly uri: string; readonly baseDn: string }): Record<string, string> {
  return {
    uri: options.uri,
    base: options.baseDn,
    people: peopleDn(options.baseDn),
    groups: groupsDn(options.baseDn),
    bindDn: serviceDn(options.baseDn, name),
    bindPasswordFile: LDAP_SEED_PATH,
  };
}
