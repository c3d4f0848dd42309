/**
 * Who can reach stormd's data folder. QEMU runs as libvirt's qemu user, and libvirt's DAC driver
 * chowns each disk to it at domain start (and back at stop) but never the folders above: every
 * folder on the way must let that user through. Instance disks hold a guest's token and directory
 * password, so nobody else may: folders are root's, group the qemu group, `0710` (the group
 * traverses but cannot list; others get nothing); disks `0660`, read-only layers `0640`, the
 * host's key and identity files `0600`. What is made in the store takes its folder's group
 * (`placeInStore`), explicitly: a set-group-ID folder would also pass the group into the scratch
 * trees that become guest filesystems.
 *
 * @example
 * await secureDataFolder('/var/lib/stormd', { gid: 64055 }, ['key.pem']); // at start, before the store opens
 * await mkdir(dir); await placeInStore(dir, STORE_DIR_MODE);
 */
import { chmod, chown, lstat, mkdir, readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** The data folder: the qemu group traverses it; the identity files in it stay root's. */
export const DATA_DIR_MODE = 0o710;
/** Store folders (layers, instances and the folders below them). */
export const STORE_DIR_MODE = 0o710;
/** Scratch and package folders: nothing in them is for QEMU. */
export const PRIVATE_DIR_MODE = 0o700;
/** Writable layers (qcow2): QEMU writes them. */
export const DISK_MODE = 0o660;
/** Read-only layers, kernels and initrds. */
export const LAYER_FILE_MODE = 0o640;
/** The host's key, certificates and host.json. */
export const SECRET_MODE = 0o600;

/** The group the store is shared with: the qemu group, or null to leave groups as they are. */
export interface StoreOwner {
  readonly gid: number | null;
}

/** The health check's probe files (`health/access-checks.ts`): a folder of their own, which no scan of layers or instances reads. */
export const PROBE_DIR = 'probe';

const QCOW2 = /\.qcow2$/;
const SCRATCH = /^\.work-/;
const PACKAGES = 'packages';

/**
 * Applies the modes above to the data folder and everything already in it (a store made by an
 * older stormd had 0755 folders and 0644 files), and makes `layers/`, `instances/` and `probe/`. Files a
 * running guest's disk was chowned to the qemu user by libvirt are left alone: libvirt gives them back.
 */
export async function secureDataFolder(dataDir: string, owner: StoreOwner, identityFiles: readonly string[]): Promise<void> {
  await share(dataDir, DATA_DIR_MODE, owner);
  for (const name of identityFiles) await chmod(join(dataDir, name), SECRET_MODE).catch(ignoreMissing);
  for (const top of ['layers', 'instances', PROBE_DIR]) {
    await mkdir(join(dataDir, top), { recursive: true, mode: STORE_DIR_MODE });
    await secureTree(join(dataDir, top), owner, 0);
  }
}

async function secureTree(dir: string, owner: StoreOwner, depth: number): Promise<void> {
  await share(dir, STORE_DIR_MODE, owner);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (SCRATCH.test(entry.name)) continue; // 0700 already, swept at start
      if (entry.name === PACKAGES) await share(path, PRIVATE_DIR_MODE, owner);
      else if (depth < 3) await secureTree(path, owner, depth + 1);
    } else if (entry.isFile()) {
      const mode = QCOW2.test(entry.name) ? DISK_MODE : dir.endsWith('/layers') ? LAYER_FILE_MODE : undefined;
      await shareFile(path, mode, owner);
    }
  }
}

/**
 * Gives a file or folder just made in the store its mode and the group of `folder`, where it is or
 * is about to be renamed to (the qemu group once `secureDataFolder` ran; unchanged when stormd is not root).
 */
export async function placeInStore(path: string, mode: number, folder = dirname(path)): Promise<void> {
  const parent = await stat(folder);
  const own = await lstat(path);
  if (process.getuid?.() === 0 && own.gid !== parent.gid) await chown(path, own.uid, parent.gid);
  await chmod(path, mode);
}

/** chmod to `mode`, and to root:<gid> when root and the group is known. */
async function share(path: string, mode: number, owner: StoreOwner): Promise<void> {
  if (owner.gid !== null) await chown(path, 0, owner.gid);
  await chmod(path, mode);
}

/** A file: `mode`, or its own mode without the bits for others; only files stormd owns. */
async function shareFile(path: string, mode: number | undefined, owner: StoreOwner): Promise<void> {
  const s = await lstat(path);
  if (s.uid !== process.getuid?.()) return; // libvirt lent it to QEMU for a running guest
  if (owner.gid !== null) await chown(path, 0, owner.gid);
  await chmod(path, mode ?? s.mode & 0o770);
}

function ignoreMissing(err: NodeJS.ErrnoException): void {
  if (err.code !== 'ENOENT') throw err;
}
