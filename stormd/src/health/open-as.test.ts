import { chmod, chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAs } from './open-as.js';

const nobody = { uid: 65534, gid: 65534, groups: [65534] };
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'storm-open-as-'));
  await chmod(dir, 0o755);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('openAs', () => {
  it('opens as the account, really: its groups count, others do not', async () => {
    const shared = join(dir, 'shared');
    await mkdir(shared, { mode: 0o750 });
    await chown(shared, 0, 65534);
    await writeFile(join(shared, 'f'), 'x', { mode: 0o640 });
    await chown(join(shared, 'f'), 0, 65534);
    const [read, write] = await openAs(nobody, [
      { path: join(shared, 'f'), write: false },
      { path: join(shared, 'f'), write: true },
    ]);
    expect(read).toEqual({ path: join(shared, 'f'), ok: true });
    expect(write).toMatchObject({ ok: false, code: 'EACCES' });
    // The same files for an account outside the group.
    const [other] = await openAs({ uid: 64055, gid: 64055, groups: [64055] }, [{ path: join(shared, 'f'), write: false }]);
    expect(other).toMatchObject({ ok: false, code: 'EACCES', blockedAt: shared });
  });

  it('names the first folder on the way the account cannot pass', async () => {
    const closed = join(dir, 'closed');
    await mkdir(join(closed, 'a', 'b'), { recursive: true });
    await chmod(closed, 0o700);
    await writeFile(join(closed, 'a', 'b', 'disk'), '', { mode: 0o666 });
    const [r] = await openAs(nobody, [{ path: join(closed, 'a', 'b', 'disk'), write: true }]);
    expect(r).toMatchObject({ ok: false, code: 'EACCES', blockedAt: closed });
  });

  it('passes a folder with search permission only, and names the folder itself when it is the one closed', async () => {
    const pass = join(dir, 'pass');
    await mkdir(join(pass, 'inner'), { recursive: true });
    await chmod(pass, 0o711);
    await chmod(join(pass, 'inner'), 0o700);
    const [through, shut] = await openAs(nobody, [
      { path: pass, write: false, traverse: true },
      { path: join(pass, 'inner'), write: false, traverse: true },
    ]);
    expect(through).toEqual({ path: pass, ok: true });
    expect(shut).toMatchObject({ ok: false, code: 'EACCES', blockedAt: join(pass, 'inner') });
  });
});
