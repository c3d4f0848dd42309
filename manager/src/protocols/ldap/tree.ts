/**
 * The published tree, built from one directory snapshot: the base entry, ou=people, ou=groups,
 * ou=services and their entries, indexed by normalized DN, with children lists for one-level and
 * subtree scopes and the bind principal behind each user and service DN.
 *
 * @example
 * const tree = DirectoryTree.build(await directory.snapshot(), 'dc=storm,dc=internal');
 * tree.get(normalizeDn('uid=alice,ou=people,dc=storm,dc=internal'))?.attributes.get('mail');
 * tree.principal(normalizeDn('cn=mx1,ou=services,dc=storm,dc=internal')); // { kind: 'service', name: 'mx1' }
 */
import { groupDn, groupsDn, peopleDn, serviceDn, servicesDn, userDn } from '../../directory/layout.js';
import type { BindPrincipal, DirectoryGroup, DirectorySnapshot, DirectoryUser, ServiceAccount } from '../../directory/types.js';
import { parseDn } from './dn.js';
import { type AttributeInput, type LdapEntry, makeEntry } from './entry.js';

/** 2025-01-02T03:04:05.678Z → 20250102030405Z (GeneralizedTime). */
function generalizedTime(iso: string): string {
  return iso.replace(/[-:T]/g, '').replace(/\.\d+Z$/, 'Z');
}

const stamps = (created: string, updated: string): AttributeInput => ({
  createTimestamp: generalizedTime(created),
  modifyTimestamp: generalizedTime(updated),
});

function baseAttributes(base: string): AttributeInput {
  const top = parseDn(base)[0]?.[0];
  const value = top?.value ?? '';
  switch (top?.type) {
    case 'dc':
      return { objectClass: ['top', 'dcObject', 'organization'], dc: value, o: value, structuralObjectClass: 'organization' };
    case 'o':
      return { objectClass: ['top', 'organization'], o: value, structuralObjectClass: 'organization' };
    case 'ou':
      return { objectClass: ['top', 'organizationalUnit'], ou: value, structuralObjectClass: 'organizationalUnit' };
    default:
      return { objectClass: ['top', 'organization'], o: value, structuralObjectClass: 'organization' };
  }
}

const unit = (name: string, description: string): AttributeInput => ({
  objectClass: ['top', 'organizationalUnit'],
  ou: name,
  description,
  structuralObjectClass: 'organizationalUnit',
});

function userAttributes(base: string, u: DirectoryUser): AttributeInput {
  return {
    objectClass: ['top', 'person', 'organizationalPerson', 'inetOrgPerson', 'posixAccount'],
    uid: u.uid,
    cn: u.cn,
    sn: u.sn,
    givenName: u.givenName,
    mail: u.mail,
    uidNumber: u.uidNumber,
    gidNumber: u.gidNumber,
    homeDirectory: u.homeDirectory,
    loginShell: u.loginShell,
    memberOf: u.memberOf.map((g) => groupDn(base, g)),
    structuralObjectClass: 'inetOrgPerson',
    ...stamps(u.createdAt, u.updatedAt),
  };
}

function groupAttributes(base: string, g: DirectoryGroup): AttributeInput {
  return {
    // posixGroup for RFC 2307 clients (memberUid), groupOfNames for RFC 2307bis ones (member DNs).
    objectClass: ['top', 'posixGroup', 'groupOfNames'],
    cn: g.name,
    gidNumber: g.gidNumber,
    description: g.description,
    memberUid: g.members,
    member: g.members.map((uid) => userDn(base, uid)),
    structuralObjectClass: 'groupOfNames',
    ...stamps(g.createdAt, g.updatedAt),
  };
}

function serviceAttributes(s: ServiceAccount): AttributeInput {
  return {
    objectClass: ['top', 'applicationProcess', 'simpleSecurityObject'],
    cn: s.name,
    description: s.description,
    structuralObjectClass: 'applicationProcess',
    ...stamps(s.createdAt, s.createdAt),
  };
}

export class DirectoryTree {
  private readonly entries = new Map<string, LdapEntry>();
  private readonly kids = new Map<string, LdapEntry[]>();
  private readonly principals = new Map<string, BindPrincipal>();

  private constructor(
    readonly version: number,
    readonly baseDn: string,
  ) {}

  static build(snapshot: DirectorySnapshot, baseDn: string): DirectoryTree {
    const tree = new DirectoryTree(snapshot.version, baseDn);
    const base = tree.add(null, baseDn, baseAttributes(baseDn));
    const people = tree.add(base, peopleDn(baseDn), unit('people', 'Users'));
    const groups = tree.add(base, groupsDn(baseDn), unit('groups', 'Groups'));
    const services = tree.add(base, servicesDn(baseDn), unit('services', 'Appliance bind accounts (read-only)'));
    for (const u of snapshot.users) tree.add(people, userDn(baseDn, u.uid), userAttributes(baseDn, u), { kind: 'user', name: u.uid });
    for (const g of snapshot.groups) tree.add(groups, groupDn(baseDn, g.name), groupAttributes(baseDn, g));
    for (const s of snapshot.services)
      tree.add(services, serviceDn(baseDn, s.name), serviceAttributes(s), { kind: 'service', name: s.name });
    return tree;
  }

  get base(): LdapEntry {
    return this.entries.values().next().value!;
  }

  get(ndn: string): LdapEntry | undefined {
    return this.entries.get(ndn);
  }

  children(ndn: string): readonly LdapEntry[] {
    return this.kids.get(ndn) ?? [];
  }

  /** Who may bind as this DN; undefined for every other entry and for DNs not in the tree. */
  principal(ndn: string): BindPrincipal | undefined {
    return this.principals.get(ndn);
  }

  get size(): number {
    return this.entries.size;
  }

  private add(parent: LdapEntry | null, dn: string, attributes: AttributeInput, principal?: BindPrincipal): LdapEntry {
    const hasKids = parent === null || ['people', 'groups', 'services'].includes(String(attributes['ou'] ?? ''));
    const entry = makeEntry(dn, { ...attributes, entryDN: dn, hasSubordinates: hasKids ? 'TRUE' : 'FALSE' });
    this.entries.set(entry.ndn, entry);
    if (parent) (this.kids.get(parent.ndn) ?? this.kids.set(parent.ndn, []).get(parent.ndn)!).push(entry);
    if (principal) this.principals.set(entry.ndn, principal);
    return entry;
  }
}
