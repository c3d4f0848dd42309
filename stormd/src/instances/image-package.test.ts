/**
 * A traditional instance's package from a real overlay chain: an MBR disk whose one partition is
 * ext4 made by mkfs.ext4 -d (with a journal to replay, as a guest that ran leaves it), staged as qcow2, a qcow2 overlay on it (backing format stated), all
 * flattened and scrubbed by qemu-img, partx, e2fsck and debugfs as nobody. Read back with debugfs.
 */
import { mkdir, mkdtemp, open, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTool } from '../exec.js';
import { buildImagePackage } from './image-package.js';

const MIB = 1024 * 1024;
const SECRET = `HOSTKEY-${'k'.repeat(40)}`;
const CLOUD = `CLOUDDATA-${'c'.repeat(40)}`;
let dir: string;

const put = async (root: string, path: string, content: string) => {
  await mkdir(dirname(join(root, path)), { recursive: true });
  await writeFile(join(root, path), content);
};

/** A disk of `mib` MiB: an MBR with one Linux partition at 1 MiB holding `fs` (raw bytes), or `fs` alone. */
async function disk(name: string, fs: Buffer, partitioned: boolean): Promise<string> {
  const raw = join(dir, `${name}.raw`);
  const f = await open(raw, 'w');
  if (partitioned) {
    const mbr = Buffer.alloc(512);
    const entry = mbr.subarray(446, 462);
    entry[0] = 0x80;
    entry[4] = 0x83;
    entry.writeUInt32LE(2048, 8);
    entry.writeUInt32LE(fs.length / 512, 12);
    mbr[510] = 0x55;
    mbr[511] = 0xaa;
    await f.write(mbr, 0, 512, 0);
    await f.write(fs, 0, fs.length, MIB);
  } else await f.write(fs, 0, fs.length, 0);
  await f.close();
  const image = join(dir, `${name}.qcow2`);
  await runTool('qemu-img', ['convert', '-q', '-f', 'raw', '-O', 'qcow2', raw, image]);
  const overlay = join(dir, `${name}-w0.qcow2`);
  await runTool('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', image, overlay, '96M']);
  return overlay;
}

/** ext4 holding `tree`; `unclean`: with a journal transaction not yet replayed (needs_recovery), as a guest that ran leaves it. */
async function ext4(name: string, tree: string, unclean = false): Promise<Buffer> {
  const img = join(dir, `${name}.ext4`);
  await runTool('truncate', ['-s', '32M', img]);
  await runTool('mkfs.ext4', ['-q', '-d', tree, img]);
  if (unclean) {
    const requests = join(dir, `${name}.debugfs`);
    await writeFile(requests, 'jo\njw -b 300 /dev/zero\njc\n');
    await runTool('debugfs', ['-w', '-f', requests, img]);
    expect((await runTool('dumpe2fs', ['-h', img])).stdout.toString()).toMatch(/features:.*needs_recovery/);
  }
  return readFile(img);
}

async function build(top: string, name: string): Promise<{ path: string; sha256: string; size: number }> {
  const work = join(dir, `work-${name}`);
  await mkdir(work, { mode: 0o700 });
  const out = join(dir, `out-${name}`);
  const r = await buildImagePackage(top, work, out, ['/var/lib/cloud', '/etc/ssh/ssh_host_*', '/etc/storm/token'], name);
  return { path: join(out, `${r.sha256}.qcow2`), ...r };
}

/** debugfs on the package's partition, read-only. */
async function look(pkg: string, request: string): Promise<string> {
  const raw = `${pkg}.raw`;
  await runTool('qemu-img', ['convert', '-q', '-f', 'qcow2', '-O', 'raw', pkg, raw]);
  const r = await runTool('debugfs', ['-R', request, `${raw}?offset=${MIB}`]);
  return r.stdout.toString() + r.stderr;
}

/** The live entries' names of an `ls -p` (an entry e2fsck cleared stays as inode 0, which no kernel shows). */
const live = (ls: string) => [...ls.matchAll(/^\/([1-9]\d*)\/\d+\/\d+\/\d+\/([^/]*)\//gm)].map((m) => m[2]);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'storm-image-package-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('buildImagePackage', () => {
  let pkg: { path: string; sha256: string; size: number };
  let guest: string;

  beforeAll(async () => {
    guest = join(dir, 'guest');
    await put(guest, 'etc/ssh/ssh_host_ed25519_key', SECRET);
    await put(guest, 'etc/ssh/ssh_host_ed25519_key.pub', 'ssh-ed25519 AAAA host');
    await put(guest, 'etc/ssh/sshd_config', 'PermitRootLogin prohibit-password\n');
    await put(guest, 'etc/machine-id', '0123456789abcdef0123456789abcdef\n');
    await put(guest, 'etc/storm/token', 'tok\n');
    await put(guest, 'etc/storm/ca.pem', 'CA\n');
    await put(guest, 'var/lib/cloud/instances/i-1/obj.pkl', CLOUD);
    await put(guest, 'var/lib/cloud/instances/i-1/sem/config_ssh', 'x');
    await symlink('instances/i-1', join(guest, 'var/lib/cloud/instance'));
    await put(guest, 'root/made-in-guest', 'hello from the guest\n');
    const top = await disk('good', await ext4('good', guest, true), true);
    pkg = await build(top, 'good');
  });

  it('is one standalone qcow2 holding what the guest wrote', async () => {
    const info = JSON.parse((await runTool('qemu-img', ['info', '--output=json', pkg.path])).stdout.toString()) as Record<string, unknown>;
    expect(info['format']).toBe('qcow2');
    expect(info['backing-filename']).toBeUndefined();
    expect(info['virtual-size']).toBe(96 * MIB);
    expect(await look(pkg.path, 'cat /root/made-in-guest')).toContain('hello from the guest');
    expect(await look(pkg.path, 'cat /etc/ssh/sshd_config')).toContain('PermitRootLogin');
    expect(await look(pkg.path, 'cat /etc/storm/ca.pem')).toContain('CA');
  });

  it("leaves out cloud-init's data, the host keys and the token, and empties machine-id", async () => {
    expect(live(await look(pkg.path, 'ls -p /var/lib'))).not.toContain('cloud');
    expect(live(await look(pkg.path, 'ls -p /etc/ssh'))).toEqual(['.', '..', 'sshd_config']);
    expect(live(await look(pkg.path, 'ls -p /etc/storm'))).toEqual(['.', '..', 'ca.pem']);
    expect(await look(pkg.path, 'stat /etc/machine-id')).toMatch(/Mode: +0444[\s\S]*User: +0 +Group: +0[\s\S]*Size: 0\b/);
    // Freed, not merely unlinked: the secret's blocks are holes in the package.
    const raw = await readFile(`${pkg.path}.raw`);
    expect(raw.includes(SECRET)).toBe(false);
    expect(raw.includes(CLOUD)).toBe(false);
    // The package's filesystem is clean as it stands.
    await runTool('e2fsck', ['-fn', `${pkg.path}.raw?offset=${MIB}`]);
  });

  it('takes a filesystem on the whole disk too', async () => {
    const bare = await build(await disk('bare', await ext4('bare', guest), false), 'bare');
    const raw = `${bare.path}.raw`;
    await runTool('qemu-img', ['convert', '-q', '-f', 'qcow2', '-O', 'raw', bare.path, raw]);
    expect(live((await runTool('debugfs', ['-R', 'ls -p /etc/ssh', raw])).stdout.toString())).toEqual(['.', '..', 'sshd_config']);
  });

  it('refuses a damaged filesystem as damaged, and a disk with no ext4 as unsupported', async () => {
    const fs = await ext4('bad', guest);
    fs.fill(0x5a, 1024, 1080); // the superblock's counts and sizes, its magic kept
    fs.fill(0x5a, 1082, 2048);
    for (const at of [8193 * 1024, 16384 * 2048]) if (at < fs.length) fs.fill(0x5a, at, at + 64 * 1024);
    await expect(build(await disk('bad', fs, true), 'bad')).rejects.toMatchObject({ code: 'STORMD_ERR_LAYER_DAMAGED' });
    await expect(build(await disk('none', Buffer.alloc(4 * MIB), true), 'none')).rejects.toMatchObject({
      code: 'STORMD_ERR_LAYER_UNSUPPORTED',
    });
  });
});
