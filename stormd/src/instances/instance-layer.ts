/**
 * The per-instance writable layer: a small qcow2 holding ext4 on the whole disk (no partition
 * table) with `upper/` and `work/` at its root for the guest's overlayfs, seeded with the
 * instance's identity under `upper/`. Built without mounting anything: `mkfs.ext4 -d` fills a
 * sparse raw file from a seed folder, `qemu-img convert` makes it qcow2.
 *
 * @example
 * await createInstanceLayer('/var/lib/storm/instances/i1/instance.qcow2', { id: 'i1', name: 'web1' });
 * const json = await readInstanceFile('/var/lib/storm/instances/i1/instance.qcow2', 'upper/etc/storm/instance.json');
 */
import { randomBytes } from 'node:crypto';
import { chmod, type FileHandle, mkdir, mkdtemp, rename, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, join, normalize } from 'node:path';
import { StormdErr } from '../errors.js';
import { runTool } from '../exec.js';
import { fsyncPath } from '../fsync.js';
import { DISK_MODE, placeInStore, PRIVATE_DIR_MODE } from '../store/store-access.js';
import { IMAGE, openScratch, repairScratch, runAsReader } from './guest-fs.js';
import { guestPath, realDir } from './stage-tree.js';

/** What an instance layer is seeded with. Later fields (a guest token, parameters) extend this. */
export interface InstanceSeed {
  readonly id: string;
  readonly name: string;
  /** Extra files for the guest, by absolute guest path (e.g. `/etc/storm/token`); seeded under `upper/`. */
  readonly files?: Readonly<Record<string, { readonly content: string | Uint8Array; readonly mode?: number }>>;
}

export interface InstanceLayerOptions {
  /** Virtual size of the disk; it is sparse, so unused space costs nothing. */
  readonly sizeMiB?: number;
  /** A tree copied into `upper/` first (owners, modes, xattrs kept); the seed files go on top. */
  readonly baseTree?: string;
}

export const INSTANCE_JSON = '/etc/storm/instance.json';
const DEFAULT_SIZE_MIB = 256;
/** Tools that copy a whole tree get longer than the default two minutes. */
const TREE_TOOL_TIMEOUT_MS = 30 * 60_000;

/** A file for the guest: its bytes and exact mode. */
export interface SeedContent {
  readonly content: string | Uint8Array;
  readonly mode: number;
}

/** The files a seed puts into the guest, by absolute guest path. */
export function seedFiles(seed: InstanceSeed): Map<string, SeedContent> {
  const files = new Map<string, SeedContent>();
  files.set(INSTANCE_JSON, { content: `${JSON.stringify({ id: seed.id, name: seed.name }, null, 2)}\n`, mode: 0o644 });
  for (const [path, f] of Object.entries(seed.files ?? {})) files.set(guestPath(path), { content: f.content, mode: f.mode ?? 0o644 });
  return files;
}

/** Creates the instance layer at `qcow2Path` (which must not exist yet); removes its partial files on failure. */
export async function createInstanceLayer(qcow2Path: string, seed: InstanceSeed, opts: InstanceLayerOptions = {}): Promise<void> {
  await createWritableLayer(qcow2Path, seedFiles(seed), opts);
}

/**
 * Creates a writable layer holding `files` (by absolute guest path, under `upper/`) and nothing
 * else: the first layer of an instance gets its identity this way, a checkpoint's new layer is empty.
 */
export async function createWritableLayer(
  qcow2Path: string,
  files: ReadonlyMap<string, SeedContent>,
  opts: InstanceLayerOptions = {},
): Promise<void> {
  if (!isAbsolute(qcow2Path)) throw StormdErr.STORMD_ERR_BAD_INPUT(`instance layer path ${qcow2Path} must be absolute`);
  if (await exists(qcow2Path)) throw StormdErr.STORMD_ERR_LAYER_EXISTS(qcow2Path);
  const sizeMiB = opts.sizeMiB ?? DEFAULT_SIZE_MIB;
  if (!Number.isInteger(sizeMiB) || sizeMiB < 8) throw StormdErr.STORMD_ERR_BAD_INPUT('instance layer size must be an integer >= 8 MiB');
  for (const path of files.keys()) guestPath(path);
  // The seed holds the guest's secrets: it lives in a folder only root enters (swept at start after a crash).
  const scratch = await privateScratch(qcow2Path, 'seed');
  try {
    const seedDir = join(scratch, 'tree');
    await writeSeedTree(seedDir, files, opts.baseTree);
    await ext4Qcow2FromTree(seedDir, qcow2Path, { sizeMiB, label: 'storm-instance' });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** A 0700 folder beside `path` (a dot name, so the start-up sweep removes one a crash left). */
async function privateScratch(path: string, what: string): Promise<string> {
  const dir = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.${what}`);
  await mkdir(dir, { mode: PRIVATE_DIR_MODE });
  return dir;
}

export interface Ext4ImageOptions {
  readonly sizeMiB: number;
  readonly label: string;
  /** Bytes per inode (mkfs.ext4 -i); the default suits few large files. */
  readonly bytesPerInode?: number;
}

/**
 * Builds a qcow2 holding ext4 on the whole disk with the contents of `treeDir` at its root, without
 * mounting anything: `mkfs.ext4 -d` keeps owners, modes, times, hard links, device nodes (overlay
 * whiteouts) and xattrs (`trusted.overlay.opaque`). Written beside `qcow2Path`, fsynced, renamed into place.
 */
export async function ext4Qcow2FromTree(treeDir: string, qcow2Path: string, opts: Ext4ImageOptions): Promise<void> {
  if (await exists(qcow2Path)) throw StormdErr.STORMD_ERR_LAYER_EXISTS(qcow2Path);
  const dir = dirname(qcow2Path);
  // The image holds the tree (a guest's token, say) while it is built: only root may read it until it is a disk.
  const scratch = await privateScratch(qcow2Path, 'build');
  const raw = join(scratch, 'image.raw');
  const partial = join(scratch, 'image.qcow2');
  try {
    await writeFile(raw, '');
    await truncate(raw, opts.sizeMiB * 1024 * 1024); // sparse
    // Whole-disk ext4, root-owned, no reserved blocks: the guest's overlay upper needs all of it.
    const inodes = opts.bytesPerInode ? ['-i', String(opts.bytesPerInode)] : [];
    await runTool(
      'mkfs.ext4',
      ['-q', '-F', '-L', opts.label, '-m', '0', ...inodes, '-E', 'root_owner=0:0', '-d', treeDir, raw],
      TREE_TOOL_TIMEOUT_MS,
    );
    await runTool('qemu-img', ['convert', '-q', '-f', 'raw', '-O', 'qcow2', raw, partial], TREE_TOOL_TIMEOUT_MS);
    await placeInStore(partial, DISK_MODE, dir);
    await fsyncPath(partial);
    await rename(partial, qcow2Path);
    await fsyncPath(dir); // make the rename itself durable
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** The virtual size of a qcow2 in bytes (`qemu-img info`). */
export async function qcow2VirtualSize(qcow2Path: string): Promise<number> {
  const { stdout } = await runTool('qemu-img', ['info', '--output=json', '-f', 'qcow2', qcow2Path]);
  const size = (JSON.parse(stdout.toString()) as { 'virtual-size'?: unknown })['virtual-size'];
  if (typeof size !== 'number') throw StormdErr.STORMD_ERR_TOOL_FAILED(`qemu-img info ${qcow2Path}: no virtual-size`);
  return size;
}

async function writeSeedTree(seedDir: string, files: ReadonlyMap<string, SeedContent>, baseTree?: string): Promise<void> {
  const upper = join(seedDir, 'upper');
  await mkdir(upper, { recursive: true });
  await mkdir(join(seedDir, 'work'), { recursive: true });
  await chmod(seedDir, 0o755); // becomes the ext4 root's mode
  if (baseTree) await runTool('cp', ['-a', '--preserve=xattr', '--', `${baseTree}/.`, `${upper}/`], TREE_TOOL_TIMEOUT_MS);
  for (const [path, f] of files) {
    // The base tree holds guest files: a symlink there must not lead this write out of the seed.
    const target = join(await realDir(upper, dirname(path)), basename(path));
    await rm(target, { recursive: true, force: true });
    await writeFile(target, f.content, { flag: 'wx' });
    await chmod(target, f.mode); // writeFile's mode is masked by umask; chmod is exact
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** Removes an instance layer; a layer already gone is not an error. */
export async function removeInstanceLayer(qcow2Path: string): Promise<void> {
  await rm(qcow2Path, { force: true });
}

/**
 * Runs `fn` on a temporary raw copy of the layer (debugfs reads raw ext4 only), handed to the
 * unprivileged reader of guest filesystems (`guest-fs.ts`). A guest that was powered off hard
 * leaves its journal unreplayed: e2fsck on the copy replays it, so what the guest wrote is read as
 * the guest's next mount would see it; the layer itself is never touched.
 */
async function withRawCopy<T>(qcow2Path: string, fn: (image: FileHandle) => Promise<T>): Promise<T> {
  if (!(await exists(qcow2Path))) throw StormdErr.STORMD_ERR_BAD_INPUT(`instance layer ${qcow2Path} does not exist`);
  const tmp = await mkdtemp(join(tmpdir(), 'storm-layer-read-'));
  try {
    const raw = join(tmp, 'layer.raw');
    await runTool('qemu-img', ['convert', '-q', '-f', 'qcow2', '-O', 'raw', qcow2Path, raw]);
    const image = await openScratch(raw);
    try {
      await repairScratch(image, `instance layer ${basename(qcow2Path)}`);
      return await fn(image);
    } finally {
      await image.close();
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** Runs one debugfs request as the reader; debugfs exits 0 even on failure, so its stderr is the verdict. */
async function debugfs(image: FileHandle, request: string, layerPath: string, path: string): Promise<Buffer> {
  const { stdout, stderr } = await runAsReader('debugfs', ['-R', request, IMAGE], image);
  const problems = stderr.split('\n').filter((l) => l.trim() && !/^debugfs \d/.test(l));
  if (problems.some((l) => /not found|File not found/i.test(l))) throw StormdErr.STORMD_ERR_LAYER_FILE_NOT_FOUND(`${path} in ${layerPath}`);
  if (problems.length) throw StormdErr.STORMD_ERR_TOOL_FAILED(`debugfs ${request} on ${layerPath}: ${problems.join(' | ')}`);
  return stdout;
}

/** Checks a path inside the layer's filesystem (e.g. `upper/etc/storm/instance.json`). */
function layerFsPath(path: string): string {
  const p = `/${path.replace(/^\/+/, '')}`;
  if (normalize(p) !== p || /["\n\0]/.test(p)) throw StormdErr.STORMD_ERR_BAD_INPUT(`layer path ${JSON.stringify(path)}`);
  return p;
}

/** The content of a file inside the layer filesystem (path from its root, e.g. `upper/var/lib/storm/boot-stamp`). */
export async function readInstanceFile(qcow2Path: string, path: string): Promise<Buffer> {
  const p = layerFsPath(path);
  return withRawCopy(qcow2Path, async (image) => {
    // cat of a directory prints its raw blocks; stat first so only regular files are read.
    const info = (await debugfs(image, `stat "${p}"`, qcow2Path, path)).toString();
    if (!/Type: regular/.test(info)) throw StormdErr.STORMD_ERR_BAD_INPUT(`${path} in ${qcow2Path} is not a regular file`);
    return debugfs(image, `cat "${p}"`, qcow2Path, path);
  });
}

/** The entry names of a directory inside the layer filesystem, without `.` and `..`, sorted. */
export async function listInstanceDir(qcow2Path: string, path = '/'): Promise<string[]> {
  const p = layerFsPath(path);
  return withRawCopy(qcow2Path, async (image) => {
    const out = (await debugfs(image, `ls -p "${p}"`, qcow2Path, path)).toString();
    // `ls -p` prints /inode/mode/uid/gid/name/size/ per entry.
    const names = out
      .split('\n')
      .map((l) => l.split('/')[5])
      .filter((n): n is string => !!n && n !== '.' && n !== '..');
    return names.sort();
  });
}
