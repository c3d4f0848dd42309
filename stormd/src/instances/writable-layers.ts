/**
 * Where an instance's writable layers live on the host and which one is current. In the instance
 * folder: `writable/w<N>.qcow2` (made empty or seeded: `PUT /layer` makes w0, each checkpoint the
 * next), `writable/w<N>.merged.qcow2` (a merge result, frozen from birth), and `writable/next-id`,
 * the high-water mark that keeps ids from ever being reused. An instance made before this layout
 * keeps its `instance.qcow2`, which is its w0 in place (its defined domain points there).
 * The current layer is the newest one that is not a merge result.
 *
 * @example
 * const files = await layerFiles('/var/lib/stormd/instances/i1');
 * currentLayer(files)?.id;          // 'w2'
 * await reserveLayerNumber('/var/lib/stormd/instances/i1', files); // 3, and next-id now says 4
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StormdErr } from '../errors.js';
import { fsyncPath } from '../fsync.js';
import { placeInStore, STORE_DIR_MODE } from '../store/store-access.js';

export const WRITABLE_DIR = 'writable';
/** The single writable layer of an instance made before writable layers stacked. */
export const LEGACY_LAYER_FILE = 'instance.qcow2';
const NEXT_ID_FILE = 'next-id';
const LAYER_FILE = /^w(0|[1-9][0-9]{0,8})(\.merged)?\.qcow2$/;
/** A writable layer id as the API names it. */
export const LAYER_ID = /^w(0|[1-9][0-9]{0,8})$/;

/** One writable layer file of an instance. */
export interface LayerFile {
  readonly id: string;
  readonly n: number;
  readonly path: string;
  /** A merge result: never current, never written. */
  readonly merged: boolean;
}

/** The number in a layer id (`w12` → 12); STORMD_ERR_BAD_INPUT for anything else. */
export function layerNumber(id: string): number {
  if (!LAYER_ID.test(id)) throw StormdErr.STORMD_ERR_BAD_INPUT(`${JSON.stringify(id)} is not a writable layer id (w0, w1, …)`);
  return Number(id.slice(1));
}

/** The file a new layer numbered `n` gets. */
export function layerFilePath(folder: string, n: number, merged: boolean): string {
  return join(folder, WRITABLE_DIR, `w${n}${merged ? '.merged' : ''}.qcow2`);
}

/** Every writable layer of the instance in `folder`, oldest first (none when the folder is absent). */
export async function layerFiles(folder: string): Promise<LayerFile[]> {
  const out: LayerFile[] = [];
  const dir = join(folder, WRITABLE_DIR);
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const m = LAYER_FILE.exec(name);
    if (m) out.push({ id: `w${m[1]}`, n: Number(m[1]), path: join(dir, name), merged: !!m[2] });
  }
  if (!out.some((l) => l.n === 0)) {
    const legacy = join(folder, LEGACY_LAYER_FILE);
    if (await isFile(legacy)) out.push({ id: 'w0', n: 0, path: legacy, merged: false });
  }
  return out.sort((a, b) => a.n - b.n);
}

/** The layer the guest writes to: the newest that is not a merge result. */
export function currentLayer(files: readonly LayerFile[]): LayerFile | undefined {
  return files.filter((l) => !l.merged).at(-1);
}

/** The layers named by `ids`, in that order; 404 naming every missing one, 400 for a repeat. */
export function pickLayers(instanceId: string, files: readonly LayerFile[], ids: readonly string[]): LayerFile[] {
  for (const id of ids) layerNumber(id);
  if (new Set(ids).size !== ids.length) throw StormdErr.STORMD_ERR_BAD_INPUT(`${ids.join(', ')}: a layer appears twice`);
  const byId = new Map(files.map((f) => [f.id, f]));
  const missing = ids.filter((id) => !byId.has(id));
  if (missing.length) throw StormdErr.STORMD_ERR_WRITABLE_LAYER_NOT_FOUND(`${instanceId} ${missing.join(', ')}`, { details: { missing } });
  return ids.flatMap((id) => byId.get(id) ?? []);
}

/**
 * The number the next layer gets, recorded first (fsynced) so that no id is ever handed out twice,
 * even after the newest layer was deleted or a crash came between the record and the file.
 */
export async function reserveLayerNumber(folder: string, files: readonly LayerFile[]): Promise<number> {
  const dir = join(folder, WRITABLE_DIR);
  await mkdir(dir, { recursive: true, mode: STORE_DIR_MODE });
  await placeInStore(dir, STORE_DIR_MODE); // the qemu group must reach the layers
  const recorded = Number((await readFile(join(dir, NEXT_ID_FILE), 'utf8').catch(() => '0')).trim());
  const n = Math.max(Number.isSafeInteger(recorded) ? recorded : 0, (files.at(-1)?.n ?? -1) + 1);
  await recordNextLayerNumber(dir, n + 1);
  return n;
}

/** Records (fsynced) that the next layer of the instance is numbered `next` at least; `dir` is its `writable/`. */
export async function recordNextLayerNumber(dir: string, next: number): Promise<void> {
  const tmp = join(dir, `.${NEXT_ID_FILE}.${randomBytes(4).toString('hex')}`);
  await writeFile(tmp, `${next}\n`);
  await fsyncPath(tmp);
  await rename(tmp, join(dir, NEXT_ID_FILE));
  await fsyncPath(dir);
}

/**
 * The virtual size of a writable layer, from its qcow2 header (bytes 24–31, big-endian): read
 * directly because `qemu-img info` cannot open a layer a running guest holds locked.
 */
export async function virtualBytes(path: string): Promise<number> {
  const f = await open(path, 'r');
  try {
    const head = Buffer.alloc(32);
    const { bytesRead } = await f.read(head, 0, 32, 0);
    if (bytesRead < 32 || head.readUInt32BE(0) !== 0x514649fb) throw StormdErr.STORMD_ERR_LAYER_DAMAGED(`${path} is not a qcow2 image`);
    return Number(head.readBigUInt64BE(24));
  } finally {
    await f.close();
  }
}

/** Allocated bytes of a file on the host's disk (not its sparse virtual size); 0 when absent. */
export async function allocatedBytes(path: string): Promise<number> {
  const s = await stat(path).catch(() => undefined);
  return s ? s.blocks * 512 : 0;
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
}
