/**
 * An instance's writable layers as the API sees them (`/v1/instances/:id/writable-layers`,
 * `/packages`): list, add a new empty current layer, delete one no domain uses, merge frozen ones,
 * package some as squashfs (a traditional instance: its overlay chain as one qcow2 image). The manager decides stacks; this only manages files. Operations on one
 * instance share `InstancesService`'s lock, so none interleaves with a define or an action.
 *
 * @example
 * const stack = instances.stack;
 * await stack.add('i1', {});                        // { layers: [w0, w1 (current)] }
 * await stack.merge('i1', { layers: ['w0'] });      // { id: 'w2', bytes, current: false }
 * await stack.package('i1', { layers: ['w2', 'w1'], exclude: ['/etc/storm/token'] }); // { sha256, size }
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type {
  MergeLayersRequest,
  NewWritableLayerRequest,
  PackageRequest,
  PackageResponse,
  WritableLayer,
  WritableLayers,
} from '../../protocol.js';
import { StormdErr } from '../errors.js';
import { fsyncPath } from '../fsync.js';
import type { DomainState, HypervisorDriver } from '../hypervisor/driver.js';
import type { KeyedLock } from '../keyed-lock.js';
import { checkSha256 } from '../store/layer-store.js';
import { domainNameFor } from './boot-spec.js';
import { domainDisks } from './domain-files.js';
import { copyFromStack } from './copy-paths.js';
import { imageOf, overlayOn } from './image-disk.js';
import { buildImagePackage, IMAGE_PACKAGE_SUFFIX } from './image-package.js';
import { createWritableLayer, qcow2VirtualSize, type SeedContent } from './instance-layer.js';
import { buildMergedLayer, buildPackage } from './layer-builds.js';
import { withMountedLayers } from './layer-mount.js';
import { removeWorkDir, WORK_PREFIX } from './scratch-sweep.js';
import { guestPath } from './stage-tree.js';
import {
  allocatedBytes,
  currentLayer,
  type LayerFile,
  layerFilePath,
  layerFiles,
  layerNumber,
  pickLayers,
  reserveLayerNumber,
  virtualBytes,
} from './writable-layers.js';

const PACKAGES_DIR = 'packages';
/** A layered instance's packages are squashfs layers, a traditional one's qcow2 images. */
const PACKAGE_SUFFIXES = ['.squashfs', IMAGE_PACKAGE_SUFFIX] as const;
const MIB = 1024 * 1024;

export interface StackServiceOptions {
  readonly instancesDir: string;
  readonly driver: HypervisorDriver;
  /** The instances service's per-instance lock. */
  readonly locks: KeyedLock;
  /** True when a defined domain points at the file. */
  readonly usesFile: (path: string) => Promise<boolean>;
}

export class StackService {
  constructor(private readonly opts: StackServiceOptions) {}

  /** `GET /writable-layers`: oldest first; 404 for an unknown instance. */
  list(id: string): Promise<WritableLayers> {
    return this.locked(id, async (folder) => this.listed(await layerFiles(folder)));
  }

  /**
   * `POST /writable-layers`: a new layer becomes current; the domain must be off. It holds `copyPaths`
   * as the current stack shows them (`copy-paths.ts`), then `files` on top, else nothing.
   */
  add(id: string, req: NewWritableLayerRequest): Promise<WritableLayers> {
    return this.locked(id, async (folder) => {
      const files = await layerFiles(folder);
      const current = currentLayer(files);
      if (!current)
        throw StormdErr.STORMD_ERR_INSTANCE_NOT_FOUND(`${id} has no writable layer; create it first (PUT /v1/instances/${id}/layer)`);
      const state = await this.domainState(id);
      // A running guest keeps writing to the layer this call would call frozen.
      if (state !== 'absent' && state !== 'shutoff')
        throw StormdErr.STORMD_ERR_DOMAIN_STATE(`${domainNameFor(id)} is ${state}; stop it before adding a writable layer`);
      // A traditional instance: an external snapshot, a new overlay on the frozen one.
      if (await imageOf(folder)) {
        const base = req.on ? pickLayers(id, files, [req.on])[0]! : current;
        await overlayOn(base.path, layerFilePath(folder, await reserveLayerNumber(folder, files), false));
        return this.listed(await layerFiles(folder));
      }
      const sizeMiB = req.sizeMiB ?? Math.max(8, Math.ceil((await qcow2VirtualSize(current.path)) / MIB));
      const seed = new Map<string, SeedContent>(
        Object.entries(req.files ?? {}).map(([p, f]) => [p, { content: Buffer.from(f.contentBase64, 'base64'), mode: f.mode ?? 0o644 }]),
      );
      const copyPaths = req.copyPaths ?? [];
      for (const p of [...seed.keys(), ...copyPaths]) guestPath(p);
      const stack = copyPaths.length ? await this.stackTopFirst(id, files) : [];
      const n = await reserveLayerNumber(folder, files);
      await this.inWorkDir(folder, async (work) => {
        let baseTree: string | undefined;
        if (copyPaths.length) {
          baseTree = join(work, 'copy');
          await mkdir(baseTree, { mode: 0o755 });
          const into = baseTree;
          await withMountedLayers(
            stack.map((l) => l.path),
            work,
            (roots) =>
              copyFromStack(
                roots.map((r) => join(r, 'upper')),
                copyPaths,
                into,
              ),
          );
        }
        await createWritableLayer(layerFilePath(folder, n, false), seed, { sizeMiB, ...(baseTree ? { baseTree } : {}) });
      });
      return this.listed(await layerFiles(folder));
    });
  }

  /** `DELETE /writable-layers/:layerId`: refused while a defined domain uses it; absent is fine. */
  remove(id: string, layerId: string): Promise<void> {
    layerNumber(layerId);
    return this.locked(id, async (folder) => {
      const layer = (await layerFiles(folder)).find((l) => l.id === layerId);
      if (!layer) return;
      if (await this.opts.usesFile(layer.path))
        throw StormdErr.STORMD_ERR_LAYER_IN_USE(`${id} ${layerId} is a disk of ${domainNameFor(id)}; redefine it without the layer first`);
      await rm(layer.path, { force: true });
      await fsyncPath(join(layer.path, '..'));
    });
  }

  /** `POST /writable-layers/merge`: frozen layers (bottom first) become one new frozen layer. */
  merge(id: string, req: MergeLayersRequest): Promise<WritableLayer> {
    return this.locked(id, async (folder) => {
      const files = await layerFiles(folder);
      const sources = pickLayers(id, files, req.layers);
      const current = currentLayer(files);
      if (current && req.layers.includes(current.id))
        throw StormdErr.STORMD_ERR_LAYER_CURRENT(
          `${id} ${current.id} is written by the guest; checkpoint first (POST writable-layers), then merge it as a frozen layer`,
        );
      await this.refuseWritten(id, sources);
      const n = await reserveLayerNumber(folder, files);
      const out = layerFilePath(folder, n, true);
      await this.inWorkDir(folder, (work) =>
        buildMergedLayer(
          sources.map((l) => l.path),
          work,
          out,
        ),
      );
      return { id: `w${n}`, bytes: await allocatedBytes(out), virtualBytes: await virtualBytes(out), current: false };
    });
  }

  /**
   * `POST /packages`: the layers (bottom first) merged into a squashfs, minus `exclude`; for a
   * traditional instance, the top one's overlay chain flattened into a qcow2 image, `exclude` scrubbed.
   */
  package(id: string, req: PackageRequest): Promise<PackageResponse> {
    return this.locked(id, async (folder) => {
      const sources = pickLayers(id, await layerFiles(folder), req.layers);
      await this.refuseWritten(id, sources);
      if (await imageOf(folder))
        return this.inWorkDir(folder, (work) =>
          buildImagePackage(sources.at(-1)!.path, work, join(folder, PACKAGES_DIR), req.exclude ?? [], `${id} ${sources.at(-1)!.id}`),
        );
      return this.inWorkDir(folder, (work) =>
        buildPackage(
          sources.map((l) => l.path),
          work,
          join(folder, PACKAGES_DIR),
          req.exclude ?? [],
        ),
      );
    });
  }

  /** The file of a package, for `GET /packages/:sha256`; 404 STORMD_ERR_PACKAGE_NOT_FOUND. */
  async packageFile(id: string, sha256: string): Promise<{ path: string; size: number }> {
    for (const suffix of PACKAGE_SUFFIXES) {
      const path = join(this.folder(id), PACKAGES_DIR, `${checkSha256(sha256)}${suffix}`);
      const s = await stat(path).catch(() => undefined);
      if (s?.isFile()) return { path, size: s.size };
    }
    throw StormdErr.STORMD_ERR_PACKAGE_NOT_FOUND(`${id} ${sha256}`);
  }

  /** `DELETE /packages/:sha256`: absent is fine. */
  removePackage(id: string, sha256: string): Promise<void> {
    checkSha256(sha256);
    return this.opts.locks.run(id, async () => {
      for (const suffix of PACKAGE_SUFFIXES) await rm(join(this.folder(id), PACKAGES_DIR, `${sha256}${suffix}`), { force: true });
    });
  }

  /** `DELETE /packages`: every package of the instance (none, or no instance folder, is fine). */
  removePackages(id: string): Promise<void> {
    const folder = this.folder(id);
    return this.opts.locks.run(id, async () => {
      await rm(join(folder, PACKAGES_DIR), { recursive: true, force: true });
    });
  }

  private folder(id: string): string {
    domainNameFor(id); // validates the id, which also keeps it a single path segment
    return join(this.opts.instancesDir, id);
  }

  /** Runs `fn` under the instance's lock; 404 when the instance has no folder. */
  private locked<T>(id: string, fn: (folder: string) => Promise<T>): Promise<T> {
    const folder = this.folder(id);
    return this.opts.locks.run(id, async () => {
      if (
        !(await stat(folder).then(
          (s) => s.isDirectory(),
          () => false,
        ))
      )
        throw StormdErr.STORMD_ERR_INSTANCE_NOT_FOUND(id);
      return fn(folder);
    });
  }

  private async listed(files: readonly LayerFile[]): Promise<WritableLayers> {
    const current = currentLayer(files);
    const layers: WritableLayer[] = [];
    for (const l of files)
      layers.push({ id: l.id, bytes: await allocatedBytes(l.path), virtualBytes: await virtualBytes(l.path), current: l === current });
    return { layers };
  }

  private async domainState(id: string): Promise<DomainState | 'absent'> {
    return this.opts.driver.state(domainNameFor(id)).catch((err: unknown) => {
      if (StormdErr.STORMD_ERR_DOMAIN_NOT_FOUND.is(err)) return 'absent' as const;
      throw err;
    });
  }

  /** The writable layers of the defined domain's stack, top first; with no domain, all of them, newest first. */
  private async stackTopFirst(id: string, files: readonly LayerFile[]): Promise<LayerFile[]> {
    const xml = await this.opts.driver.xml(domainNameFor(id)).catch((err: unknown) => {
      if (StormdErr.STORMD_ERR_DOMAIN_NOT_FOUND.is(err)) return undefined;
      throw err;
    });
    const byPath = new Map(files.map((f) => [f.path, f]));
    const inStack = xml ? domainDisks(xml).flatMap((d) => byPath.get(d.file) ?? []) : [];
    return (inStack.length ? inStack : [...files]).reverse();
  }

  /** Refuses layers a domain that is not off has attached writable: their contents are still moving. */
  private async refuseWritten(id: string, sources: readonly LayerFile[]): Promise<void> {
    const state = await this.domainState(id);
    if (state === 'absent' || state === 'shutoff') return;
    const name = domainNameFor(id);
    const written = new Set(
      domainDisks(await this.opts.driver.xml(name))
        .filter((d) => !d.readonly)
        .map((d) => d.file),
    );
    const hit = sources.find((l) => written.has(l.path));
    if (hit) throw StormdErr.STORMD_ERR_DOMAIN_STATE(`${name} is ${state} and writes to ${hit.id}; stop it first`);
  }

  /** A private scratch folder in the instance folder (same filesystem as the layers), always removed. */
  private async inWorkDir<T>(folder: string, fn: (work: string) => Promise<T>): Promise<T> {
    const work = join(folder, `${WORK_PREFIX}${randomBytes(4).toString('hex')}`);
    await mkdir(work, { mode: 0o700 });
    try {
      return await fn(work);
    } finally {
      await removeWorkDir(work);
    }
  }
}
