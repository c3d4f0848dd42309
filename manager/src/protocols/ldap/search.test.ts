import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDirectory, populate, type TestDirectory } from '../../directory/test-support/fixtures.js';
import { normalizeDn } from './dn.js';
import type { Filter } from './filter.js';
import { type CompareRequest, ResultCode, type SearchRequest } from './protocol.js';
import { runCompare, runSearch } from './search.js';
import { rootDse } from './server.js';
import { DirectoryTree } from './tree.js';

const BASE = 'dc=storm,dc=internal';
let t: TestDirectory;
let tree: DirectoryTree;

beforeAll(async () => {
  t = await openTestDirectory({ cost: { log2N: 10, r: 8, p: 1 } });
  await populate(t.store);
  tree = DirectoryTree.build(await t.store.snapshot(), BASE);
});
afterAll(() => t.close());

const all: Filter = { type: 'present', attribute: 'objectClass' };
function search(base: string, filter: Filter | null = all, o: Partial<SearchRequest> = {}) {
  const req: SearchRequest = {
    op: 'search',
    id: 1,
    controls: [],
    base,
    scope: 'sub',
    sizeLimit: 0,
    timeLimit: 0,
    typesOnly: false,
    filter,
    attributes: [],
    ...o,
  };
  return runSearch(tree, rootDse(BASE), req, { sizeLimit: 1000 });
}
const dns = (out: ReturnType<typeof search>) => out.entries.map((e) => e.dn);

describe('DirectoryTree', () => {
  it('publishes the base, three units, users, groups and service accounts', () => {
    expect(tree.size).toBe(1 + 3 + 4 + 3 + 1);
    expect(tree.principal(normalizeDn(`UID=Alice,OU=People,${BASE}`))).toEqual({ kind: 'user', name: 'alice' });
    expect(tree.principal(normalizeDn(`cn=mx1,ou=services,${BASE}`))).toEqual({ kind: 'service', name: 'mx1' });
    expect(tree.principal(normalizeDn(`cn=mail,ou=groups,${BASE}`))).toBeUndefined();
  });
});

describe('runSearch', () => {
  it('walks base, one-level, subtree and children scopes', () => {
    expect(dns(search(BASE, all, { scope: 'base' }))).toEqual([BASE]);
    expect(dns(search(BASE, all, { scope: 'one' }))).toEqual([`ou=people,${BASE}`, `ou=groups,${BASE}`, `ou=services,${BASE}`]);
    expect(search(BASE).entries).toHaveLength(12);
    expect(dns(search(`ou=groups,${BASE}`, all, { scope: 'children' }))).toEqual([
      `cn=empty,ou=groups,${BASE}`,
      `cn=mail,ou=groups,${BASE}`,
      `cn=staff,ou=groups,${BASE}`,
    ]);
  });

  it('finds a user the way Postfix asks, and returns only the attributes asked for', () => {
    const filter: Filter = {
      type: 'and',
      filters: [
        { type: 'equal', attribute: 'objectClass', value: 'inetOrgPerson' },
        { type: 'equal', attribute: 'mail', value: 'bob@storm.internal' },
      ],
    };
    const out = search(`ou=people,${BASE}`, filter, { attributes: ['MAIL', 'uid'] });
    expect(out.entries).toEqual([
      {
        dn: `uid=bob,ou=people,${BASE}`,
        attributes: [
          { type: 'uid', values: ['bob'] },
          { type: 'mail', values: ['Bob@Storm.Internal'] },
        ],
      },
    ]);
  });

  it('returns user attributes for *, operational ones only for + or by name, none for 1.1, no values with typesOnly', () => {
    const alice = `uid=alice,ou=people,${BASE}`;
    const types = (attributes: string[], typesOnly = false) =>
      search(alice, all, { scope: 'base', attributes, typesOnly }).entries[0]!.attributes.map((a) => a.type);
    expect(types([])).toEqual([
      'objectClass',
      'uid',
      'cn',
      'sn',
      'givenName',
      'mail',
      'uidNumber',
      'gidNumber',
      'homeDirectory',
      'loginShell',
      'memberOf',
    ]);
    expect(types(['+'])).toEqual(['structuralObjectClass', 'createTimestamp', 'modifyTimestamp', 'entryDN', 'hasSubordinates']);
    expect(types(['1.1'])).toEqual([]);
    expect(types(['entrydn', 'userPassword', 'nosuch'])).toEqual(['entryDN']);
    expect(search(alice, all, { scope: 'base', attributes: ['uid'], typesOnly: true }).entries[0]!.attributes).toEqual([
      { type: 'uid', values: [] },
    ]);
    expect(
      search(alice, all, { scope: 'base', attributes: ['+'] }).entries[0]!.attributes.find((a) => a.type === 'createTimestamp')?.values[0],
    ).toMatch(/^\d{14}Z$/);
  });

  it('publishes groups for RFC 2307 (memberUid) and RFC 2307bis (member) clients, and memberOf on users', () => {
    const out = search(`cn=mail,ou=groups,${BASE}`, all, {
      scope: 'base',
      attributes: ['memberUid', 'member', 'gidNumber', 'objectClass'],
    });
    expect(out.entries[0]!.attributes).toEqual([
      { type: 'objectClass', values: ['top', 'posixGroup', 'groupOfNames'] },
      { type: 'gidNumber', values: ['10000'] },
      { type: 'memberUid', values: ['alice', 'bob'] },
      { type: 'member', values: [`uid=alice,ou=people,${BASE}`, `uid=bob,ou=people,${BASE}`] },
    ]);
    const members = search(BASE, { type: 'equal', attribute: 'memberOf', value: `cn=staff,ou=groups,${BASE}` });
    expect(dns(members)).toEqual([`uid=alice,ou=people,${BASE}`]);
  });

  it('never publishes a password or a hash', () => {
    const everything = JSON.stringify(search(BASE, all, { attributes: ['*', '+', 'userPassword'] }));
    expect(everything).not.toMatch(/userPassword|scrypt|sha256|password/i);
    expect(search(BASE, { type: 'present', attribute: 'userPassword' }).entries).toEqual([]);
  });

  it('stops at the size limit with sizeLimitExceeded', () => {
    const out = search(`ou=people,${BASE}`, { type: 'equal', attribute: 'objectClass', value: 'posixAccount' }, { sizeLimit: 2 });
    expect([out.entries.length, out.code]).toEqual([2, ResultCode.sizeLimitExceeded]);
    const server = runSearch(
      tree,
      rootDse(BASE),
      {
        op: 'search',
        id: 1,
        controls: [],
        base: BASE,
        scope: 'sub',
        sizeLimit: 0,
        timeLimit: 0,
        typesOnly: false,
        filter: all,
        attributes: [],
      },
      { sizeLimit: 5 },
    );
    expect([server.entries.length, server.code]).toEqual([5, ResultCode.sizeLimitExceeded]);
  });

  it('answers noSuchObject with the matched DN, invalidDNSyntax, and adminLimitExceeded for a filter past the limits', () => {
    expect(search(`uid=nobody,ou=people,${BASE}`)).toMatchObject({ code: ResultCode.noSuchObject, matchedDn: `ou=people,${BASE}` });
    expect(search('dc=example,dc=org')).toMatchObject({ code: ResultCode.noSuchObject, matchedDn: '' });
    expect(search('junk')).toMatchObject({ code: ResultCode.invalidDNSyntax });
    expect(search(BASE, null)).toMatchObject({ code: ResultCode.adminLimitExceeded });
  });

  it('serves the root DSE on a base search of the empty DN only', () => {
    const root = search('', all, { scope: 'base', attributes: ['+'] });
    expect(root.entries[0]!.attributes.find((a) => a.type === 'namingContexts')?.values).toEqual([BASE]);
    expect(search('', all, { scope: 'base' }).entries[0]!.attributes).toEqual([{ type: 'objectClass', values: ['top'] }]);
    expect(search('', all, { scope: 'sub' })).toMatchObject({ code: ResultCode.noSuchObject });
  });
});

describe('runCompare', () => {
  const compare = (entry: string, attribute: string, value: string) =>
    runCompare(tree, { op: 'compare', id: 1, controls: [], entry, attribute, value: Buffer.from(value) } as CompareRequest).code;
  it('answers compareTrue/False by the attribute’s rule, and never for userPassword', () => {
    const alice = `uid=alice,ou=people,${BASE}`;
    expect(compare(alice, 'mail', 'ALICE@storm.internal')).toBe(ResultCode.compareTrue);
    expect(compare(alice, 'uidNumber', '10001')).toBe(ResultCode.compareFalse);
    expect(compare(alice, 'userPassword', 'alice-password-1')).toBe(ResultCode.noSuchAttribute);
    expect(compare(alice, 'nosuch', 'x')).toBe(ResultCode.undefinedAttributeType);
    expect(compare(`uid=zed,ou=people,${BASE}`, 'uid', 'zed')).toBe(ResultCode.noSuchObject);
  });
});
