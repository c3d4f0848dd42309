/**
 * Where directory entries sit in the LDAP tree, shared by the REST views, the appliance seed and
 * the LDAP server so a DN is spelled one way everywhere.
 *
 *   dc=storm,dc=internal            the base (from the instance zone by default)
 *   ├─ ou=people    uid=<uid>       users (inetOrgPerson, posixAccount)
 *   ├─ ou=groups    cn=<name>       groups (posixGroup, groupOfNames)
 *   └─ ou=services  cn=<instance>   appliances' read-only bind accounts
 *
 * @example
 * baseDnFromDomain('storm.internal'); // 'dc=storm,dc=internal'
 * userDn('dc=storm,dc=internal', 'alice'); // 'uid=alice,ou=people,dc=storm,dc=internal'
 */
export const PEOPLE_OU = 'people';
export const GROUPS_OU = 'groups';
export const SERVICES_OU = 'services';
export const DEFAULT_BASE_DN = 'dc=storm,dc=internal';

/** RFC 4514 escaping of one attribute value. */
export function escapeDnValue(value: string): string {
  return value
    .replace(/[\\,+"<>;=\u0000]/g, (c) => (c === '\u0000' ? '\\00' : `\\${c}`))
    .replace(/^[ #]/, (c) => `\\${c}`)
    .replace(/ $/, '\\ ');
}

export function baseDnFromDomain(domain: string): string {
  const labels = domain.replace(/\.$/, '').split('.').filter(Boolean);
  return labels.length ? labels.map((l) => `dc=${escapeDnValue(l.toLowerCase())}`).join(',') : DEFAULT_BASE_DN;
}

export const peopleDn = (base: string): string => `ou=${PEOPLE_OU},${base}`;
export const groupsDn = (base: string): string => `ou=${GROUPS_OU},${base}`;
export const servicesDn = (base: string): string => `ou=${SERVICES_OU},${base}`;
export const userDn = (base: string, uid: string): string => `uid=${escapeDnValue(uid)},${peopleDn(base)}`;
export const groupDn = (base: string, name: string): string => `cn=${escapeDnValue(name)},${groupsDn(base)}`;
export const serviceDn = (base: string, name: string): string => `cn=${escapeDnValue(name)},${servicesDn(base)}`;
