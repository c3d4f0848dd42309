/**
 * Writable layers are read through fuse2fs run as nobody, never through the host kernel's ext4:
 * what a merge needs comes through whole (owners, modes, xattrs of every namespace, hard links,
 * symlinks, whiteouts), the reader owns nothing, no loop device or ext4 mount ever exists, and a
 * layer whose filesystem the guest destroyed is refused as damaged. Needs root, fuse2fs and
 * user_allow_other in /etc/fuse.conf (scripts/setup.sh).
 */
import { link, lstat, mkdir, mkdtemp, open, readFile, readlink, rm, symlink, writeFile, chown } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTool } from '../exec.js';
import { FS_READER } from './guest-fs.js';
import { ext4Qcow2FromTree } from './instance-layer.js';
import { withMountedLayers } from './layer-mount.js';
import { dumpXattrs } from './xattrs.js';

let dir: string;
let layer: string;

/** Mount lines of the guest layers' kind that the host kernel would make: ext4 or a loop device. */
async function kernelMounts(): Promise<string[]> {
  return (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').filter((l) => / - ext4 /.test(l) && l.includes(dir));
}

async function loopsUnder(path: string): Promise<string[]> {
  const out = (await runTool('losetup', ['--list', '--json', '--output', 'NAME,BACK-FILE'])).stdout.toString();
  const parsed = (out.trim() ? JSON.parse(out) : {}) as { loopdevices?: { 'back-file'?: string }[] };
  return (parsed.loopdevices ?? []).map((l) => l['back-file'] ?? '').filter((f) => f.startsWith(path));
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'storm-layer-mount-'));
  const upper = join(dir, 'tree', 'upper');
  await mkdir(join(upper, 'etc/app'), { recursive: true });
  await mkdir(join(dir, 'tree', 'work'));
  await writeFile(join(upper, 'etc/app/conf'), 'secret\n', { mode: 0o640 });
  await chown(join(upper, 'etc/app/conf'), 1000, 1001);
  await link(join(upper, 'etc/app/conf'), join(upper, 'etc/app/conf-link'));
  await symlink('conf', join(upper, 'etc/app/sym'));
  await runTool('mknod', [join(upper, 'etc/gone'), 'c', '0', '0']);
  await mkdir(join(upper, 'opaque'));
  await runTool('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', join(upper, 'opaque')]);
  await runTool('setfattr', ['-n', 'user.note', '-v', 'hi', join(upper, 'etc/app/conf')]);
  layer = join(dir, 'w0.qcow2');
  await ext4Qcow2FromTree(join(dir, 'tree'), layer, { sizeMiB: 32, label: 'storm-instance' });
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('withMountedLayers', () => {
  it('serves a layer whole through fuse2fs as nobody, with no ext4 mount or loop device on the host', async () => {
    const work = join(dir, 'work-1');
    await mkdir(work, { mode: 0o700 });
    let seen: { mnt: string; reader: string; kernel: string[]; loops: string[] } | undefined;
    let mountPoint = '';
    const got = await withMountedLayers([layer], work, async ([root]) => {
      const mnt = root!;
      mountPoint = mnt;
      const line = (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').find((l) => l.split(' ')[4] === mnt) ?? '';
      const daemon = (await runTool('pgrep', ['-f', `fuse2fs /dev/fd/3 ${mnt}`])).stdout.toString().trim().split('\n')[0]!;
      const reader = /Uid:\s+(\d+)/.exec(await readFile(`/proc/${daemon}/status`, 'utf8'))?.[1] ?? '';
      seen = { mnt: line.split(' - ')[1]?.split(' ')[0] ?? '', reader, kernel: await kernelMounts(), loops: await loopsUnder(dir) };
      const conf = await lstat(join(mnt, 'upper/etc/app/conf'));
      const gone = await lstat(join(mnt, 'upper/etc/gone'));
      const xattrs = await dumpXattrs([join(mnt, 'upper/etc/app/conf'), join(mnt, 'upper/opaque')]);
      return {
        conf: [conf.uid, conf.gid, conf.mode & 0o7777, conf.nlink, (await readFile(join(mnt, 'upper/etc/app/conf'))).toString()],
        hardLinked: (await lstat(join(mnt, 'upper/etc/app/conf-link'))).ino === conf.ino,
        sym: await readlink(join(mnt, 'upper/etc/app/sym')),
        whiteout: [gone.isCharacterDevice(), gone.rdev],
        user: xattrs.get(join(mnt, 'upper/etc/app/conf'))?.get('user.note')?.toString(),
        opaque: xattrs.get(join(mnt, 'upper/opaque'))?.get('trusted.overlay.opaque')?.toString(),
      };
    });
    expect(seen).toEqual({ mnt: 'fuse.ext4', reader: String(FS_READER.uid), kernel: [], loops: [] });
    expect(got).toEqual({
      conf: [1000, 1001, 0o640, 2, 'secret\n'],
      hardLinked: true,
      sym: 'conf',
      whiteout: [true, 0],
      user: 'hi',
      opaque: 'y',
    });
    // Nothing left: no mount, no mount point, no copy.
    expect([
      (await readFile('/proc/self/mountinfo', 'utf8')).includes(mountPoint),
      await lstat(mountPoint).then(
        () => true,
        () => false,
      ),
    ]).toEqual([false, false]);
    expect(await runTool('ls', ['-A', work]).then((r) => r.stdout.toString())).toBe('');
  });

  it('refuses a layer whose filesystem the guest destroyed, saying so, and mounts nothing', async () => {
    const raw = join(dir, 'damaged.raw');
    await runTool('qemu-img', ['convert', '-q', '-f', 'qcow2', '-O', 'raw', layer, raw]);
    // The superblock and its first backups for every block size, as a guest's dd would leave them.
    const f = await open(raw, 'r+');
    for (const at of [0, 8193 * 1024, 16384 * 2048, 32768 * 4096]) await f.write(Buffer.alloc(64 * 1024, 0x5a), 0, 64 * 1024, at);
    await f.close();
    const damaged = join(dir, 'damaged.qcow2');
    await runTool('qemu-img', ['convert', '-q', '-f', 'raw', '-O', 'qcow2', raw, damaged]);
    const work = join(dir, 'work-2');
    await mkdir(work, { mode: 0o700 });
    let ran = false;
    await expect(withMountedLayers([damaged], work, async () => (ran = true))).rejects.toMatchObject({
      code: 'STORMD_ERR_LAYER_DAMAGED',
      message: expect.stringMatching(
        /^writable layer damaged: writable layer damaged: its ext4 filesystem cannot be read or repaired \(e2fsck exit 8: .*\); the guest damaged it\. Roll the instance back to a checkpoint, or destroy it$/,
      ),
    });
    expect([ran, await kernelMounts(), await loopsUnder(dir)]).toEqual([false, [], []]);
  });

  it('says what the host lacks when FUSE cannot mount (here: stormd under no_new_privs), never passing an empty folder for the layer', async () => {
    const work = join(dir, 'work-3');
    await mkdir(work, { mode: 0o700 });
    const script = `import('${join(import.meta.dirname, 'layer-mount.ts')}').then((m) => m.withMountedLayers([${JSON.stringify(layer)}], ${JSON.stringify(work)}, async () => 'read'))
      .then((v) => console.log(JSON.stringify({ v })), (e) => console.log(JSON.stringify({ code: e.code, message: e.message })));`;
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn('setpriv', ['--no-new-privs', '--', process.execPath, '--import', 'tsx', '--input-type=module', '-e', script], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let text = '';
      child.stdout.on('data', (b: Buffer) => (text += b.toString()));
      child.once('error', reject);
      child.once('exit', () => resolve(text));
    });
    expect(JSON.parse(out.trim().split('\n').at(-1)!)).toEqual({
      code: 'STORMD_ERR_TOOL_FAILED',
      message: expect.stringMatching(
        /fuse2fs did not mount the layer as nobody \(.*mount failed: Operation not permitted.*\): stormd needs fuse2fs and fuse3 installed, user_allow_other in \/etc\/fuse.conf and no NoNewPrivileges/,
      ),
    });
    expect(await kernelMounts()).toEqual([]);
  });
});
