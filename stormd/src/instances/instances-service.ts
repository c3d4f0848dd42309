/**
 * What stormd does to instances: each has a folder `<data>/instances/<id>/` with its writable
 * layers (`writable/w<N>.qcow2`, see `writable-layers.ts`; `stack` manages them), packages and
 * serial log (`console.log`), and a domain `storm-<id>`. Operations on one instance run one at a
 * time. The status list is the union of folders and `storm-*` domains, so drift (a layer without
 * a domain, a domain without a layer) is visible.
 *
 * @example
 * const instances = new InstancesService({ dataDir, driver, store });
 * await instances.init();
 * await instances.createLayer('i1', { name: 'web1' });
 * await instances.define('i1', { uuid, memoryMiB: 256, vcpus: 1, boot: { kernel, initrd }, layers: [os, app], nics: [] });
 * await instances.action('i1', { action: 'start' }); // { state: 'running' }
 * await instances.remove('i1'); // destroy + undefine + delete the folder
 */
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import {
  type SerialTail,
  type CreateImageDiskRequest,
  type CreateInstanceLayerRequest,
  type DefineDomainRequest,
  type IncomingInstanceRequest,
  type IncomingInstanceResponse,
  type InstanceActionRequest,
  type MigrateInstanceRequest,
  type MigrateInstanceResponse,
  type InstanceActionResponse,
  type InstanceStatus,
  MAX_STACK_DEPTH,
} from '../../protocol.js';
import { StormdErr } from '../errors.js';
import type { DomainSpec, DomainState, DomainSummary, HypervisorDriver } from '../hypervisor/driver.js';
import { runTool } from '../exec.js';
import { checkMigrationUris } from '../hypervisor/live-migration.js';
import { Activity } from '../activity.js';
import { KeyedLock } from '../keyed-lock.js';
import type { LayerStore } from '../store/layer-store.js';
import { DISK_MODE, placeInStore, STORE_DIR_MODE } from '../store/store-access.js';
import { domainNameFor, layeredBootSpec } from './boot-spec.js';
import { type SerialAttachment, SerialPorts, type SerialSink, serialPtyPath } from './serial-port.js';
import { serialTail, rotateSerialLog } from './serial-tail.js';
import { domainFiles } from './domain-files.js';
import { hasSeed, seedIsoPath, writeSeedIso } from './cloud-seed.js';
import { createImageDisk, imageOf } from './image-disk.js';
import { imageBootSpec, UEFI_VARS_FILE } from './image-spec.js';
import { createInstanceLayer } from './instance-layer.js';
import { sweepScratch } from './scratch-sweep.js';
import { StackService } from './stack-service.js';
import { VolumeService } from '../volumes/volume-service.js';
import {
  allocatedBytes,
  currentLayer,
  type LayerFile,
  layerFilePath,
  layerFiles,
  layerNumber,
  pickLayers,
  recordNextLayerNumber,
  reserveLayerNumber,
  virtualBytes,
  WRITABLE_DIR,
} from './writable-layers.js';

export const DOMAIN_PREFIX = 'storm-';
// The serial log keeps the file name hosts already hold.
const SERIAL_LOG_FILE = 'console.log';
/** States in which a domain holds memory on the host. */
const RUNNING: ReadonlySet<DomainState> = new Set(['running', 'paused', 'shutting-down', 'suspended']);

export interface InstancesServiceOptions {
  readonly dataDir: string;
  readonly driver: HypervisorDriver;
  readonly store: LayerStore;
  /** Where the operations under way are listed (`GET /v1/activity`). */
  readonly activity?: Activity;
}

export class InstancesService {
  readonly dir: string;
  private readonly driver: HypervisorDriver;
  private readonly store: LayerStore;
  private readonly locks = new KeyedLock();
  private readonly activity: Activity;
  /** The writable layers and packages of each instance. */
  readonly stack: StackService;
  /** The open serial ports and who is attached to each. */
  readonly serialPorts = new SerialPorts();
  /** Data volumes and which instance each is attached to; `define` adds an instance's to its domain. */
  readonly volumes: VolumeService;

  constructor(opts: InstancesServiceOptions) {
    this.dir = join(opts.dataDir, 'instances');
    this.driver = opts.driver;
    this.store = opts.store;
    this.activity = opts.activity ?? new Activity();
    this.stack = new StackService({ instancesDir: this.dir, driver: this.driver, locks: this.locks, usesFile: (p) => this.usesFile(p) });
    this.volumes = new VolumeService({
      dataDir: opts.dataDir,
      instancesDir: this.dir,
      driver: this.driver,
      locks: this.locks,
      usesFile: (p) => this.usesFile(p),
      activity: this.activity,
    });
  }

  /** Makes the folder (the qemu group traverses it to the layers, see `store-access.ts`) and clears a crash's scratch. */
  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: STORE_DIR_MODE });
    await placeInStore(this.dir, STORE_DIR_MODE);
    await sweepScratch(this.dir);
    await this.volumes.init();
  }

  folder(id: string): string {
    domainNameFor(id); // validates the id, which also keeps it a single path segment
    return join(this.dir, id);
  }

  serialLogPath(id: string): string {
    return join(this.folder(id), SERIAL_LOG_FILE);
  }

  /** Creates the first writable layer (w0) seeded with the instance's identity and files (409 when it has one). */
  createLayer(id: string, req: CreateInstanceLayerRequest): Promise<InstanceStatus> {
    return this.busy(id, `building the first writable layer of ${id} (mkfs.ext4, qemu-img)`, async () => {
      const folder = this.folder(id);
      const files = Object.fromEntries(
        Object.entries(req.files ?? {}).map(([path, f]) => [
          path,
          { content: Buffer.from(f.contentBase64, 'base64'), ...(f.mode === undefined ? {} : { mode: f.mode }) },
        ]),
      );
      const existing = await layerFiles(folder);
      if (existing.length) throw StormdErr.STORMD_ERR_LAYER_EXISTS(`${id} has writable layers (${existing.map((l) => l.id).join(', ')})`);
      const fresh = !(await exists(folder));
      await mkdir(folder, { recursive: true, mode: STORE_DIR_MODE });
      await placeInStore(folder, STORE_DIR_MODE);
      try {
        const n = await reserveLayerNumber(folder, existing);
        await createInstanceLayer(
          layerFilePath(folder, n, false),
          { id, name: req.name, files },
          req.sizeMiB === undefined ? {} : { sizeMiB: req.sizeMiB },
        );
      } catch (err) {
        // Undo the folder only if this call made it; an existing one belongs to an existing instance.
        if (fresh) await rm(folder, { recursive: true, force: true });
        throw err;
      }
      return this.statusOf(id);
    });
  }

  /** A traditional instance's disk: an overlay on the staged image, and its cloud-init seed (409 when it has a disk). */
  createDisk(id: string, req: CreateImageDiskRequest): Promise<InstanceStatus> {
    return this.busy(id, `making the disk of ${id} (qemu-img overlay on ${req.image.slice(0, 12)}, cloud-init seed)`, async () => {
      const folder = this.folder(id);
      const existing = await layerFiles(folder);
      if (existing.length) throw StormdErr.STORMD_ERR_LAYER_EXISTS(`${id} has a disk (${existing.map((l) => l.id).join(', ')})`);
      if (!(await this.store.has(req.image))) throw StormdErr.STORMD_ERR_LAYER_NOT_STAGED(req.image, { details: { missing: [req.image] } });
      const fresh = !(await exists(folder));
      await mkdir(folder, { recursive: true, mode: STORE_DIR_MODE });
      await placeInStore(folder, STORE_DIR_MODE);
      try {
        const n = await reserveLayerNumber(folder, existing);
        const image = this.store.path(req.image);
        await createImageDisk(folder, layerFilePath(folder, n, false), {
          image,
          sha256: req.image,
          format: req.format,
          firmware: req.firmware ?? 'bios',
          sizeMiB: req.sizeMiB,
        });
        if (req.seed) await writeSeedIso(folder, req.seed);
      } catch (err) {
        if (fresh) await rm(folder, { recursive: true, force: true });
        throw err;
      }
      return this.statusOf(id);
    });
  }

  /**
   * Defines (or redefines while off) the domain: staged layers, then the frozen writable layers
   * (read-only qcow2), then the current writable layer on top; at most MAX_STACK_DEPTH disks.
   */
  async define(id: string, req: DefineDomainRequest): Promise<InstanceStatus> {
    return this.busy(id, `defining domain ${domainNameFor(id)} (waiting for libvirt)`, async () => {
      const files = await layerFiles(this.folder(id));
      const current = currentLayer(files);
      if (!current) throw StormdErr.STORMD_ERR_INSTANCE_NOT_FOUND(`${id} has no writable layer; create it first`);
      const frozenIds = req.frozen ?? [];
      const depth = req.layers.length + frozenIds.length + 1;
      if (depth > MAX_STACK_DEPTH) {
        throw StormdErr.STORMD_ERR_STACK_TOO_DEEP(
          `${id}: ${req.layers.length} image + ${frozenIds.length} frozen + 1 writable = ${depth} layers, at most ${MAX_STACK_DEPTH}; merge frozen layers first`,
          {
            details: { depth, max: MAX_STACK_DEPTH },
          },
        );
      }
      const frozen = pickLayers(id, files, frozenIds);
      if (frozenIds.includes(current.id))
        throw StormdErr.STORMD_ERR_LAYER_CURRENT(`${id} ${current.id} is the writable top of the stack; it cannot also be frozen in it`);
      if (req.image || !req.boot) {
        // A traditional instance: its overlay chain is one disk; its image was checked when the disk was made.
        const folder = this.folder(id);
        const mark = await imageOf(folder);
        if (!mark) throw StormdErr.STORMD_ERR_BAD_INPUT(`${id} has no image disk (PUT /v1/instances/${id}/disk) and no boot files`);
        const spec = imageBootSpec({
          instanceId: id,
          uuid: req.uuid,
          disk: current.path,
          ...((await hasSeed(folder)) ? { seed: seedIsoPath(folder) } : {}),
          firmware: req.image?.firmware ?? mark.firmware ?? 'bios',
          nvram: join(folder, UEFI_VARS_FILE),
          memoryMiB: req.memoryMiB,
          vcpus: req.vcpus,
          consoleLog: this.serialLogPath(id),
          nics: req.nics,
          volumes: await this.volumes.disksFor(id),
          ...(req.metadata ? { metadata: req.metadata } : {}),
        });
        await this.store.guard(() => this.driver.define(spec));
        return this.statusOf(id);
      }
      const boot = req.boot;
      await this.store.guard(async () => this.driver.define(await this.layeredSpec(id, req, boot, frozen, current.path)));
      return this.statusOf(id);
    });
  }

  /**
   * Readies this host to receive the running instance by live migration (`IncomingInstanceRequest`):
   * its folder with an empty current writable layer of the source's id and size, and the XML its
   * own define would write, which becomes the definition here when the migration ends.
   */
  incoming(id: string, req: IncomingInstanceRequest): Promise<IncomingInstanceResponse> {
    return this.busy(id, `receiving ${domainNameFor(id)} by live migration (empty writable layer ${req.writable.id})`, async () => {
      const boot = req.domain.boot;
      if (!boot || req.domain.image) throw StormdErr.STORMD_ERR_BAD_INPUT(`${id}: only a layered instance migrates live`);
      if (req.domain.frozen?.length)
        throw StormdErr.STORMD_ERR_BAD_INPUT(
          `${id}: frozen writable layers (${req.domain.frozen.join(', ')}) do not migrate live; merge them first`,
        );
      const name = domainNameFor(id);
      if ((await this.statusOf(id)).state !== 'absent') throw StormdErr.STORMD_ERR_DOMAIN_EXISTS(`${name} is defined on this host`);
      const folder = this.folder(id);
      const n = layerNumber(req.writable.id);
      const path = layerFilePath(folder, n, false);
      const existing = await layerFiles(folder);
      const again = existing.length === 1 && existing[0]?.path === path && (await virtualBytes(path)) === req.writable.virtualBytes;
      if (existing.length && !again)
        throw StormdErr.STORMD_ERR_LAYER_EXISTS(`${id} has writable layers here (${existing.map((l) => l.id).join(', ')})`);
      const fresh = !(await exists(folder));
      try {
        if (!again) {
          await mkdir(join(folder, WRITABLE_DIR), { recursive: true, mode: STORE_DIR_MODE });
          await placeInStore(folder, STORE_DIR_MODE);
          await placeInStore(join(folder, WRITABLE_DIR), STORE_DIR_MODE);
          await recordNextLayerNumber(join(folder, WRITABLE_DIR), n + 1);
          // Empty: the migration's disk mirror writes every block the source's layer holds.
          await runTool('qemu-img', ['create', '-q', '-f', 'qcow2', path, String(req.writable.virtualBytes)]);
          await placeInStore(path, DISK_MODE);
        }
        const spec = await this.store.guard(() => this.layeredSpec(id, req.domain, boot, [], path));
        return { domainXml: this.driver.domainXml(spec) };
      } catch (err) {
        if (fresh) await rm(folder, { recursive: true, force: true });
        throw err;
      }
    });
  }

  /**
   * Live-migrates the running instance to another host readied by `incoming` (`MigrateInstanceRequest`);
   * once it runs there, its folder here goes. On failure the guest still runs here, untouched.
   */
  migrate(id: string, req: MigrateInstanceRequest): Promise<MigrateInstanceResponse> {
    const name = domainNameFor(id);
    checkMigrationUris(req);
    return this.busy(id, `live-migrating ${name} to ${req.targetUri}`, async () => {
      const volumes = await this.volumes.disksFor(id);
      if (volumes.length)
        throw StormdErr.STORMD_ERR_VOLUME_IN_USE(
          `${id} has data volumes attached (${volumes.map((v) => v.serial).join(', ')}); detach them first`,
        );
      const started = Date.now();
      const outcome = await this.driver.migrate(name, {
        targetUri: req.targetUri,
        targetXml: req.domainXml,
        timeoutMs: req.timeoutMs ?? 600_000,
        ...(req.migrateUri ? { migrateUri: req.migrateUri } : {}),
        ...(req.disksUri ? { disksUri: req.disksUri } : {}),
      });
      const totalMs = Date.now() - started;
      await rm(this.folder(id), { recursive: true, force: true });
      return { copiedDisks: outcome.copiedDisks, downtimeMs: outcome.downtimeMs ?? null, totalMs };
    });
  }

  async action(id: string, req: InstanceActionRequest): Promise<InstanceActionResponse> {
    const name = domainNameFor(id);
    const what =
      req.action === 'stop' || req.action === 'reboot'
        ? `${req.action === 'stop' ? 'stopping' : 'rebooting'} ${name} (the guest has ${Math.round((req.timeoutMs ?? 60_000) / 1000)} s to power off)`
        : `${req.action === 'start' ? 'starting' : 'destroying'} ${name}`;
    return this.busy(id, what, async () => {
      switch (req.action) {
        case 'start':
          await rotateSerialLog(this.serialLogPath(id));
          await this.driver.start(name);
          return { state: await this.driver.state(name) };
        case 'stop': {
          const outcome = await this.driver.stop(name, req.timeoutMs);
          return { state: await this.driver.state(name), outcome };
        }
        case 'reboot':
          await this.driver.reboot(name, req.timeoutMs);
          return { state: await this.driver.state(name) };
        case 'destroy':
          await this.driver.destroy(name);
          return { state: await this.driver.state(name) };
      }
    });
  }

  /** Removes the domain definition; it must be off. */
  undefine(id: string): Promise<InstanceStatus> {
    return this.locks.run(id, async () => {
      await this.driver.undefine(domainNameFor(id));
      return this.statusOf(id);
    });
  }

  /** Destroy, undefine and delete the folder; whatever is already gone is skipped. */
  remove(id: string): Promise<void> {
    return this.busy(id, `removing instance ${id} (destroy, undefine, delete its folder)`, async () => {
      const name = domainNameFor(id);
      await ignoreNotFound(() => this.driver.destroy(name));
      await ignoreNotFound(() => this.driver.undefine(name));
      await rm(this.folder(id), { recursive: true, force: true });
    });
  }

  /** One instance; 404 when the host has neither its folder nor its domain. */
  async get(id: string): Promise<InstanceStatus> {
    const status = await this.statusOf(id);
    if (status.state === 'absent' && !(await exists(this.folder(id)))) throw StormdErr.STORMD_ERR_INSTANCE_NOT_FOUND(id);
    return status;
  }

  /** Every instance with a folder or a `storm-*` domain, sorted by id. */
  async list(): Promise<InstanceStatus[]> {
    const domains = await this.stormDomains();
    const ids = new Set(domains.keys());
    for (const entry of await readdir(this.dir, { withFileTypes: true })) {
      if (entry.isDirectory() && isInstanceId(entry.name)) ids.add(entry.name);
    }
    const out: InstanceStatus[] = [];
    for (const id of [...ids].sort()) out.push(await this.statusFrom(id, domains.get(id)));
    return out;
  }

  async serial(id: string, bytes?: number): Promise<SerialTail> {
    await this.get(id);
    return serialTail(this.serialLogPath(id), bytes);
  }

  /** The pty of a running instance's serial port; refused (409) when it is not running or has none. */
  async serialPty(id: string): Promise<string> {
    const name = domainNameFor(id);
    const { state } = await this.get(id);
    if (state !== 'running') throw StormdErr.STORMD_ERR_SERIAL_UNAVAILABLE(`${name} is ${state}; start it first`);
    const path = serialPtyPath(await this.driver.xml(name));
    if (!path)
      throw StormdErr.STORMD_ERR_SERIAL_UNAVAILABLE(
        `${name} has no serial pty (its domain was defined before serial ports could be attached: a checkpoint redefines it with one; the test driver has none)`,
      );
    return path;
  }

  /** Attaches `sink` to the instance's serial port (see `serial-port.ts`). */
  async attachSerial(id: string, sink: SerialSink): Promise<SerialAttachment> {
    return this.serialPorts.attach(id, await this.serialPty(id), sink);
  }

  /** Sum of the memory of running `storm-*` domains. */
  async allocatedMemoryMiB(): Promise<number> {
    let sum = 0;
    for (const d of (await this.stormDomains()).values()) if (RUNNING.has(d.state)) sum += d.memoryMiB;
    return sum;
  }

  /** True when a defined `storm-*` domain points at `path` (the layer store asks before removing). */
  async usesFile(path: string): Promise<boolean> {
    // A traditional instance's image is in its overlays' backing chain, which no defined domain's XML lists.
    for (const entry of await readdir(this.dir).catch(() => [] as string[]))
      if (isInstanceId(entry) && (await imageOf(join(this.dir, entry)))?.sha256 === basename(path)) return true;
    for (const d of (await this.stormDomains()).values()) {
      const xml = await this.driver.xml(d.name).catch((err: unknown) => {
        if (StormdErr.STORMD_ERR_DOMAIN_NOT_FOUND.is(err)) return ''; // undefined while we looked
        throw err;
      });
      if (xml && domainFiles(xml).includes(path)) return true;
    }
    return false;
  }

  /** The spec of a layered instance: staged layers, then `frozen`, then `writable` on top (404 naming what is not staged). */
  private async layeredSpec(
    id: string,
    req: DefineDomainRequest,
    boot: NonNullable<DefineDomainRequest['boot']>,
    frozen: readonly LayerFile[],
    writable: string,
  ): Promise<DomainSpec> {
    const wanted = [boot.kernel, boot.initrd, ...req.layers];
    const missing: string[] = [];
    for (const sha of new Set(wanted)) if (!(await this.store.has(sha))) missing.push(sha);
    if (missing.length) throw StormdErr.STORMD_ERR_LAYER_NOT_STAGED(missing.join(', '), { details: { missing } });
    return layeredBootSpec({
      instanceId: id,
      uuid: req.uuid,
      kernel: this.store.path(boot.kernel),
      initrd: this.store.path(boot.initrd),
      layers: [
        ...req.layers.map((sha) => ({ path: this.store.path(sha), format: 'raw' as const })),
        ...frozen.map((l) => ({ path: l.path, format: 'qcow2' as const })),
      ],
      instanceLayer: writable,
      memoryMiB: req.memoryMiB,
      vcpus: req.vcpus,
      consoleLog: this.serialLogPath(id),
      nics: req.nics,
      // Attached volumes come back with every define, whichever operation asks for it.
      volumes: await this.volumes.disksFor(id),
      ...(boot.extraCmdline ? { extraCmdline: boot.extraCmdline } : {}),
      ...(req.metadata ? { metadata: req.metadata } : {}),
    });
  }

  /** Runs `fn` under the instance's lock, listed as `what` while it runs. */
  private busy<T>(id: string, what: string, fn: () => Promise<T>): Promise<T> {
    return this.locks.run(id, () => this.activity.run(what, fn));
  }

  /** `storm-*` domains by instance id. */
  private async stormDomains(): Promise<Map<string, DomainSummary>> {
    const out = new Map<string, DomainSummary>();
    for (const d of await this.driver.list()) {
      const id = d.name.slice(DOMAIN_PREFIX.length);
      if (d.name.startsWith(DOMAIN_PREFIX) && isInstanceId(id)) out.set(id, d);
    }
    return out;
  }

  private async statusOf(id: string): Promise<InstanceStatus> {
    const name = domainNameFor(id);
    const state = await this.driver.state(name).catch((err: unknown) => {
      if (StormdErr.STORMD_ERR_DOMAIN_NOT_FOUND.is(err)) return 'absent' as const;
      throw err;
    });
    return this.statusFrom(id, undefined, state);
  }

  private async statusFrom(id: string, domain: DomainSummary | undefined, state?: DomainState | 'absent'): Promise<InstanceStatus> {
    const files = await layerFiles(this.folder(id));
    let layerBytes = 0;
    // Allocated bytes, not the sparse virtual size, over every writable layer.
    for (const l of files) layerBytes += await allocatedBytes(l.path);
    return { id, domain: domainNameFor(id), state: state ?? domain?.state ?? 'absent', hasLayer: !!currentLayer(files), layerBytes };
  }
}

function isInstanceId(id: string): boolean {
  try {
    domainNameFor(id);
    return true;
  } catch {
    return false;
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function ignoreNotFound(fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (!StormdErr.STORMD_ERR_DOMAIN_NOT_FOUND.is(err)) throw err;
  }
}
