/**
 * Data volumes on this host: create, list, remove (`volume-files.ts`), and attach to or detach
 * from an instance (`attachments.ts`). An attachment is recorded in the instance's folder first,
 * then put into its defined domain's config, and into the running guest too (hot-plug); every
 * later define of the domain adds it again (`disksFor`, which `InstancesService.define` calls), so
 * lifecycle operations keep it without knowing volumes exist. Runs under the instance's lock, and
 * the volume's, so an attach never races a define of the same domain or another attach of the volume.
 *
 * @example
 * await volumes.create('pgdata', { sizeMiB: 1024 });
 * await volumes.attach('i1', 'pgdata', { serial: 'storm-vol-pgdata' }); // { live: true } when i1 runs
 * await volumes.remove('pgdata'); // 409 STORMD_ERR_VOLUME_IN_USE while attached
 */
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type AttachVolumeRequest,
  type AttachVolumeResponse,
  type CreateVolumeRequest,
  MAX_VOLUMES_PER_INSTANCE,
  type VolumeStatus,
} from '../../protocol.js';
import { Activity } from '../activity.js';
import { StormdErr } from '../errors.js';
import type { DomainState, HypervisorDriver, VolumeDiskSpec } from '../hypervisor/driver.js';
import { VOLUME_SERIAL } from '../hypervisor/spec-check.js';
import { domainNameFor } from '../instances/boot-spec.js';
import { allocatedBytes } from '../instances/writable-layers.js';
import type { KeyedLock } from '../keyed-lock.js';
import { placeInStore, STORE_DIR_MODE } from '../store/store-access.js';
import { type Attachment, readAttachments, writeAttachments } from './attachments.js';
import { checkVolumeName, createVolumeFile, exists, volumeFiles, volumePath } from './volume-files.js';
import { qcow2VirtualSize } from '../instances/instance-layer.js';

/** States in which hot-plug reaches the guest. */
const LIVE: ReadonlySet<DomainState> = new Set(['running', 'paused']);

export interface VolumeServiceOptions {
  readonly dataDir: string;
  /** `<data>/instances`: each instance's folder holds its `volumes.json`. */
  readonly instancesDir: string;
  readonly driver: HypervisorDriver;
  /** The instances' locks: an attach waits for a define of the same instance. */
  readonly locks: KeyedLock;
  /** True when a defined domain points at the file (a guest that has not let go of an unplugged disk yet). */
  readonly usesFile: (path: string) => Promise<boolean>;
  readonly activity?: Activity;
}

export class VolumeService {
  readonly dir: string;
  private readonly instancesDir: string;
  private readonly driver: HypervisorDriver;
  private readonly locks: KeyedLock;
  private readonly usesFile: (path: string) => Promise<boolean>;
  private readonly activity: Activity;

  constructor(opts: VolumeServiceOptions) {
    this.dir = join(opts.dataDir, 'volumes');
    this.instancesDir = opts.instancesDir;
    this.driver = opts.driver;
    this.locks = opts.locks;
    this.usesFile = opts.usesFile;
    this.activity = opts.activity ?? new Activity();
  }

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: STORE_DIR_MODE });
    await placeInStore(this.dir, STORE_DIR_MODE);
  }

  async list(): Promise<VolumeStatus[]> {
    const users = await this.users();
    const out: VolumeStatus[] = [];
    for (const f of await volumeFiles(this.dir)) out.push(await this.statusOf(f.name, users.get(f.name) ?? []));
    return out;
  }

  create(name: string, req: CreateVolumeRequest): Promise<VolumeStatus> {
    checkVolumeName(name);
    return this.volumeLock(name, `creating volume ${name} (mkfs.ext4, qemu-img)`, async () => {
      await createVolumeFile(this.dir, name, req.sizeMiB);
      return this.statusOf(name, []);
    });
  }

  /** Deletes the file; refused while an instance lists it; nothing to do when absent. */
  remove(name: string): Promise<void> {
    checkVolumeName(name);
    return this.volumeLock(name, `removing volume ${name}`, async () => {
      const users = (await this.users()).get(name) ?? [];
      if (users.length) throw StormdErr.STORMD_ERR_VOLUME_IN_USE(`${name} is attached to ${users.join(', ')}; detach it first`);
      const path = volumePath(this.dir, name);
      if (await this.usesFile(path))
        throw StormdErr.STORMD_ERR_VOLUME_IN_USE(`${name} is still a disk of a domain (its guest has not let go of it yet); try again`);
      await rm(path, { force: true });
    });
  }

  attach(id: string, name: string, req: AttachVolumeRequest): Promise<AttachVolumeResponse> {
    const domain = domainNameFor(id);
    checkVolumeName(name);
    if (!VOLUME_SERIAL.test(req.serial))
      throw StormdErr.STORMD_ERR_BAD_INPUT(`serial ${JSON.stringify(req.serial)} must be 1-20 of [A-Za-z0-9_.-]`);
    return this.locks.run(id, () =>
      this.volumeLock(name, `attaching volume ${name} to ${domain}`, async () => {
        const path = volumePath(this.dir, name);
        if (!(await exists(path))) throw StormdErr.STORMD_ERR_VOLUME_NOT_FOUND(name);
        const folder = join(this.instancesDir, id);
        if (!(await exists(folder))) throw StormdErr.STORMD_ERR_INSTANCE_NOT_FOUND(id);
        const others = ((await this.users()).get(name) ?? []).filter((u) => u !== id);
        if (others.length) throw StormdErr.STORMD_ERR_VOLUME_IN_USE(`${name} is attached to ${others.join(', ')}`);
        const list = await readAttachments(folder);
        const known = list.find((a) => a.name === name);
        if (known && known.serial !== req.serial)
          throw StormdErr.STORMD_ERR_VOLUME_IN_USE(`${name} is attached to ${id} with serial ${known.serial}`);
        if (list.some((a) => a.name !== name && a.serial === req.serial))
          throw StormdErr.STORMD_ERR_BAD_INPUT(`${id} has another volume with serial ${req.serial}`);
        if (!known && list.length >= MAX_VOLUMES_PER_INSTANCE)
          throw StormdErr.STORMD_ERR_BAD_INPUT(`${id} has ${list.length} volumes, at most ${MAX_VOLUMES_PER_INSTANCE}`);
        if (!known) await writeAttachments(folder, [...list, { name, serial: req.serial }]);
        const state = await this.domainState(domain);
        let live = LIVE.has(state as DomainState);
        const disk = { path, serial: req.serial };
        try {
          if (state !== 'absent') await this.plug(domain, disk, live).then((plugged) => (live = plugged));
        } catch (err) {
          // libvirt refused even the config: the instance keeps the list it had.
          if (!known) await writeAttachments(folder, list);
          throw err;
        }
        return { name, serial: req.serial, live };
      }),
    );
  }

  /** Unplugs (while running) and forgets the attachment; nothing to do when it is not attached. */
  detach(id: string, name: string): Promise<void> {
    const domain = domainNameFor(id);
    checkVolumeName(name);
    return this.locks.run(id, () =>
      this.volumeLock(name, `detaching volume ${name} from ${domain}`, async () => {
        const folder = join(this.instancesDir, id);
        const list = await readAttachments(folder);
        const known = list.find((a) => a.name === name);
        if (!known) return;
        const state = await this.domainState(domain);
        if (state !== 'absent') await this.driver.detachVolume(domain, known.serial, LIVE.has(state as DomainState));
        await writeAttachments(
          folder,
          list.filter((a) => a.name !== name),
        );
      }),
    );
  }

  /** The disks a define of `id`'s domain adds after its stack (the caller holds the instance's lock). */
  async disksFor(id: string): Promise<VolumeDiskSpec[]> {
    const out: VolumeDiskSpec[] = [];
    for (const a of await readAttachments(join(this.instancesDir, id))) {
      const path = volumePath(this.dir, a.name);
      // A volume file gone behind stormd's back would keep the domain from starting at all.
      if (await exists(path)) out.push({ path, serial: a.serial });
    }
    return out;
  }

  /** Adds the disk to the domain, hot-plugged when `live`; a guest that refuses the hot-plug gets it at its next start. False then. */
  private async plug(domain: string, disk: VolumeDiskSpec, live: boolean): Promise<boolean> {
    if (!live) {
      await this.driver.attachVolume(domain, disk, false);
      return false;
    }
    try {
      await this.driver.attachVolume(domain, disk, true);
      return true;
    } catch (err) {
      if (!StormdErr.STORMD_ERR_TOOL_FAILED.is(err)) throw err;
      await this.driver.attachVolume(domain, disk, false);
      return false;
    }
  }

  /** Instance ids by the volume names they list. */
  private async users(): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    for (const entry of await readdir(this.instancesDir, { withFileTypes: true }).catch(() => [])) {
      if (!entry.isDirectory()) continue;
      for (const a of await readAttachments(join(this.instancesDir, entry.name)).catch((): Attachment[] => [])) {
        out.set(a.name, [...(out.get(a.name) ?? []), entry.name]);
      }
    }
    return out;
  }

  private async statusOf(name: string, attachedTo: readonly string[]): Promise<VolumeStatus> {
    const path = volumePath(this.dir, name);
    return {
      name,
      sizeMiB: Math.round((await qcow2VirtualSize(path)) / (1024 * 1024)),
      bytes: await allocatedBytes(path),
      attachedTo: [...attachedTo],
    };
  }

  private async domainState(domain: string): Promise<DomainState | 'absent'> {
    return this.driver.state(domain).catch((err: unknown) => {
      if (StormdErr.STORMD_ERR_DOMAIN_NOT_FOUND.is(err)) return 'absent' as const;
      throw err;
    });
  }

  private volumeLock<T>(name: string, what: string, fn: () => Promise<T>): Promise<T> {
    // A colon never occurs in an instance id, so volume keys never meet instance keys.
    return this.locks.run(`volume:${name}`, () => this.activity.run(what, fn));
  }
}
