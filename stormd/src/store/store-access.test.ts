import { chmod, lstat, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAs } from '../health/open-as.js';
import { resolveQemuUser } from '../health/qemu-user.js';
import { placeInStore, secureDataFolder, STORE_DIR_MODE } from './store-access.js';

const nobody = { uid: 65534, gid: 65534, groups: [65534] };
const mode = async (p: string) => ((await lstat(p)).mode & 0o7777).toString(8);
let dir: string;
let data: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'storm-store-access-'));
  await chmod(dir, 0o755); // the test's own folder lets everyone through: the data folder must hold by itself
  data = join(dir, 'stormd');
  // A store as stormd made it before: folders 0755, files 0644, root's group.
  const i = join(data, 'instances', 'i-1');
  await mkdir(join(i, 'writable'), { recursive: true, mode: 0o755 });
  await mkdir(join(i, 'packages'), { mode: 0o755 });
  await mkdir(join(data, 'layers'), { mode: 0o755 });
  await chmod(data, 0o755);
  for (const [p, body] of [
    [join(data, 'key.pem'), 'KEY'],
    [join(data, 'host.json'), '{}'],
    [join(data, 'layers', 'a'.repeat(64)), 'layer'],
    [join(i, 'writable', 'w0.qcow2'), 'token inside'],
    [join(i, 'instance.qcow2'), 'legacy w0'],
    [join(i, 'console.log'), 'boot log'],
    [join(i, 'packages', `${'b'.repeat(64)}.squashfs`), 'pkg'],
  ] as const) {
    await writeFile(p, body);
    await chmod(p, 0o644);
  }
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('the store shared with the qemu group only', () => {
  it('gives an old store root:<qemu group> 0710 folders, 0660 disks, 0640 layers, 0600 identity files', async () => {
    const qemu = (await resolveQemuUser())!;
    await secureDataFolder(data, { gid: qemu.gid }, ['key.pem', 'host.json']);
    const i = join(data, 'instances', 'i-1');
    expect(await mode(data)).toBe('710');
    expect(await mode(join(data, 'key.pem'))).toBe('600');
    expect(await mode(join(data, 'host.json'))).toBe('600');
    expect(await mode(join(data, 'layers'))).toBe('710');
    expect(await mode(join(data, 'layers', 'a'.repeat(64)))).toBe('640');
    expect(await mode(i)).toBe('710');
    expect(await mode(join(i, 'writable'))).toBe('710');
    expect(await mode(join(i, 'writable', 'w0.qcow2'))).toBe('660');
    expect(await mode(join(i, 'instance.qcow2'))).toBe('660');
    expect(await mode(join(i, 'console.log'))).toBe('640');
    expect(await mode(join(i, 'packages'))).toBe('700');
    for (const p of [data, join(data, 'layers'), i, join(i, 'writable', 'w0.qcow2')]) expect((await lstat(p)).gid).toBe(qemu.gid);

    // As nobody: no disk, layer, log or identity file opens. As QEMU: disks and layers do.
    const files = [
      join(i, 'writable', 'w0.qcow2'),
      join(i, 'instance.qcow2'),
      join(i, 'console.log'),
      join(data, 'layers', 'a'.repeat(64)),
      join(data, 'key.pem'),
      join(data, 'host.json'),
    ];
    for (const r of await openAs(
      nobody,
      files.map((path) => ({ path, write: false })),
    ))
      expect(r).toMatchObject({ ok: false, code: 'EACCES', blockedAt: data });
    const asQemu = await openAs(qemu, [
      { path: join(i, 'writable', 'w0.qcow2'), write: true },
      { path: join(data, 'layers', 'a'.repeat(64)), write: false },
      { path: join(data, 'key.pem'), write: false },
    ]);
    expect(asQemu.map((r) => r.ok)).toEqual([true, true, false]);
  });

  it("gives what is made later its folder's group", async () => {
    const folder = join(data, 'instances', 'i-2');
    await mkdir(folder);
    await placeInStore(folder, STORE_DIR_MODE);
    expect((await lstat(folder)).gid).toBe((await lstat(join(data, 'instances'))).gid);
    expect(await mode(folder)).toBe('710');
  });
});
