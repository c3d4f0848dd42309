/**
 * An instance's identity scrubbed from a flattened disk image before it is packaged, in user space
 * only (`guest-fs.ts`: the tools run as nobody on the raw file handed over as an open file; the host
 * kernel never mounts it). The root filesystem is the largest ext2/3/4 partition `partx` finds (or
 * the whole disk when it has no partition table, `rootPartition`); the caller hands
 * `scrubFilesystem` that filesystem alone, as its own file (`image-package.ts` copies a partition
 * out and back: e2fsck re-opens a filesystem to replay its journal, and the re-open drops an
 * `?offset=`, so a guest that ran could not be repaired in place). e2fsck replays the journal first; then `debugfs -w` frees every inode under each path (`kill_file`
 * and `clri`, by inode number, so no guest-made name is ever quoted into a command), /etc/machine-id
 * is recreated empty (systemd makes a new one at the next boot), e2fsck clears the entries and link
 * counts left pointing at the freed inodes, and a last e2fsck discards the free blocks (the file gets
 * holes there, so nothing freed survives in the package). A path whose last segment ends in `*` names every
 * entry with that prefix (`/etc/ssh/ssh_host_*`).
 *
 *
 * @example
 * const image = await openScratch('/d/instances/i1/.work-1/root.raw'); // the root filesystem alone
 * await scrubFilesystem(image, ['/var/lib/cloud', '/etc/ssh/ssh_host_*', '/etc/storm/token'], 'i1');
 * await image.close();
 */
import type { FileHandle } from 'node:fs/promises';
import { posix } from 'node:path';
import { StormdErr } from '../errors.js';
import { IMAGE, repairScratch, runAsReader } from './guest-fs.js';

const SECTOR = 512;
/** The ext2/3/4 superblock's magic, 1080 bytes into the filesystem. */
const EXT_MAGIC_AT = 1080;
const EXT_MAGIC = 0xef53;
/** Inodes below this one are the filesystem's own (root is 2): never freed, whatever a listing says. */
const FIRST_FREE_INODE = 11;
const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
/** A walk deeper than this is a crafted tree, not cloud-init's data. */
const MAX_DEPTH = 32;
const MACHINE_ID = '/etc/machine-id';

interface Entry {
  readonly inode: number;
  readonly mode: number;
  readonly name: string;
}

/** Scrubs `paths` (absolute guest paths) out of `image`, a raw ext2/3/4 filesystem (no partition table). */
export async function scrubFilesystem(image: FileHandle, paths: readonly string[], what: string): Promise<void> {
  await repairScratch(image, what);
  const doomed = new Set<number>();
  for (const path of paths) for (const inode of await inodesUnder(image, path)) doomed.add(inode);
  const commands = [...doomed].flatMap((n) => [`kill_file <${n}>`, `clri <${n}>`]);
  await debugfs(image, commands, true);
  await emptyMachineId(image);
  // The entries left naming freed inodes go and link counts are fixed; then a run that finds
  // nothing to fix turns the free blocks into holes (e2fsck discards only in such a run).
  await repairScratch(image, what);
  if ((await repairScratch(image, what, { discard: true })) !== 'clean')
    throw StormdErr.STORMD_ERR_LAYER_DAMAGED(`${what}: its filesystem still needed repairs after the scrub; nothing was packaged`);
}

/** Where the root filesystem lies: the largest partition holding ext2/3/4, or the whole disk for a bare filesystem (`bytes` null). */
export async function rootPartition(image: FileHandle, what: string): Promise<{ offset: number; bytes: number | null }> {
  const found: { offset: number; bytes: number }[] = [];
  for (const p of await partitions(image)) if (await isExt(image, p.offset)) found.push(p);
  if (!found.length && (await isExt(image, 0))) return { offset: 0, bytes: null };
  const best = found.sort((a, b) => b.bytes - a.bytes)[0];
  if (!best)
    throw StormdErr.STORMD_ERR_LAYER_UNSUPPORTED(
      `${what}: no ext2/3/4 root filesystem found on its disk (a partition table with an ext4 partition, or ext4 on the whole disk): it cannot be scrubbed, so it is not packaged`,
    );
  return best;
}

/** The partitions `partx` reads from the table (none when the disk has no table it knows). */
async function partitions(image: FileHandle): Promise<{ offset: number; bytes: number }[]> {
  const out = await runAsReader('partx', ['-P', '-o', 'START,SECTORS', IMAGE], image, { timeoutMs: 60_000 }).catch(() => undefined);
  if (!out) return [];
  const parts: { offset: number; bytes: number }[] = [];
  for (const line of out.stdout.toString().split('\n')) {
    const m = /^START="(\d+)" SECTORS="(\d+)"$/.exec(line.trim());
    if (m) parts.push({ offset: Number(m[1]) * SECTOR, bytes: Number(m[2]) * SECTOR });
  }
  return parts;
}

async function isExt(image: FileHandle, offset: number): Promise<boolean> {
  const buf = Buffer.alloc(2);
  const { bytesRead } = await image.read(buf, 0, 2, offset + EXT_MAGIC_AT);
  return bytesRead === 2 && buf.readUInt16LE(0) === EXT_MAGIC;
}

/** Inodes of the entries `path` names (none when absent) and, for directories, of all below them. */
async function inodesUnder(image: FileHandle, path: string): Promise<number[]> {
  const name = posix.basename(path);
  const prefix = name.endsWith('*') ? name.slice(0, -1) : undefined;
  const top = (await list(image, posix.dirname(path))).filter((e) => (prefix !== undefined ? e.name.startsWith(prefix) : e.name === name));
  const inodes: number[] = [];
  const seen = new Set<number>();
  let level = top;
  for (let depth = 0; level.length; depth++) {
    if (depth > MAX_DEPTH) throw StormdErr.STORMD_ERR_LAYER_UNSUPPORTED(`${path} is more than ${MAX_DEPTH} directories deep`);
    const next: Entry[] = [];
    for (const e of level) {
      if (e.inode < FIRST_FREE_INODE || seen.has(e.inode)) continue;
      seen.add(e.inode);
      inodes.push(e.inode);
      if ((e.mode & S_IFMT) === S_IFDIR) next.push(...(await list(image, `<${e.inode}>`)));
    }
    level = next;
  }
  return inodes;
}

/** `ls -p` of a directory (a path or `<inode>`), without `.` and `..`; an absent directory lists nothing. */
async function list(image: FileHandle, dir: string): Promise<Entry[]> {
  const { stdout, stderr } = await runAsReader('debugfs', ['-R', `ls -p ${dir}`, IMAGE], image, { timeoutMs: 60_000 });
  if (/File not found by ext2_lookup|Ext2 inode is not a directory/.test(stderr)) return [];
  const entries: Entry[] = [];
  // `/inode/mode/uid/gid/name/size/`: a name never holds `/`; one holding a newline only loses its tail here.
  for (const m of stdout.toString('latin1').matchAll(/^\/(\d+)\/([0-7]+)\/\d+\/\d+\/([^/\n]*)/gm)) {
    const name = Buffer.from(m[3]!, 'latin1').toString();
    if (name !== '.' && name !== '..') entries.push({ inode: Number(m[1]), mode: parseInt(m[2]!, 8), name });
  }
  return entries;
}

/** /etc/machine-id as an empty root-owned 0444 file (the Debian cloud image's own), whatever it was. */
async function emptyMachineId(image: FileHandle): Promise<void> {
  const etc = await list(image, '/etc');
  if (!etc.length) return;
  const held = etc.find((e) => e.name === posix.basename(MACHINE_ID));
  if (held && (held.mode & S_IFMT) === S_IFDIR) return; // not a file the guest could read as its id: left as it is
  await debugfs(
    image,
    [
      ...(held ? [`rm ${MACHINE_ID}`] : []),
      `write /dev/null ${MACHINE_ID}`,
      `sif ${MACHINE_ID} mode 0100444`,
      `sif ${MACHINE_ID} uid 0`,
      `sif ${MACHINE_ID} gid 0`,
    ],
    true,
  );
}

/** Runs debugfs requests in one process (`-w`: read-write), read from its stdin; any request's error fails it. */
async function debugfs(image: FileHandle, commands: readonly string[], write: boolean): Promise<void> {
  if (!commands.length) return;
  const { stderr } = await runAsReader('debugfs', [...(write ? ['-w'] : []), '-f', '-', IMAGE], image, {
    timeoutMs: 10 * 60_000,
    input: `${commands.join('\n')}\n`,
  });
  const said = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^debugfs \d/.test(l));
  if (said.length) throw StormdErr.STORMD_ERR_LAYER_DAMAGED(`debugfs could not scrub the image: ${said.slice(0, 3).join(' ')}`);
}
