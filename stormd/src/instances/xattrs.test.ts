import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dumpXattrs, parseGetfattr, removeXattr, setXattr } from './xattrs.js';

describe('parseGetfattr', () => {
  it('decodes octal-escaped names and hex values', () => {
    const out = Buffer.from(
      '# file: /t/a\\012b\\134c\ntrusted.overlay.opaque=0x79\nuser.empty=0x\n\n# file: /t/é\nuser.we\\075ird=0x6869\n\n',
      'utf8',
    );
    const dump = parseGetfattr(out);
    expect([...dump.keys()]).toEqual(['/t/a\nb\\c', '/t/é']);
    expect(dump.get('/t/a\nb\\c')?.get('trusted.overlay.opaque')?.toString()).toBe('y');
    expect(dump.get('/t/a\nb\\c')?.get('user.empty')?.length).toBe(0);
    expect(dump.get('/t/é')?.get('user.we=ird')?.toString()).toBe('hi');
  });
});

describe('getfattr/setfattr round trip (real tools)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'storm-xattr-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('sets, dumps (recursive, filtered) and removes over many paths, odd names included', async () => {
    const paths = ['plain', 'with space', 'new\nline', 'back\\slash', 'ünï'].map((n) => join(dir, n));
    for (const p of paths) await mkdir(p);
    await setXattr('trusted.overlay.opaque', 'y', paths);
    await setXattr('user.keep', 'k', [paths[0] as string]);
    const all = await dumpXattrs([dir], { recursive: true });
    for (const p of paths) expect(all.get(p)?.get('trusted.overlay.opaque')?.toString()).toBe('y');
    const filtered = await dumpXattrs([dir], { recursive: true, match: '^user\\.' });
    expect([...filtered.keys()]).toEqual([paths[0]]);
    await removeXattr('trusted.overlay.opaque', paths);
    expect((await dumpXattrs(paths, { match: '^trusted\\.' })).size).toBe(0);
  });
});
