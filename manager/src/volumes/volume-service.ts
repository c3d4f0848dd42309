/**
 * Data volumes (docs/volumes.md): disks apart from the layer stack that outlive their instances.
 * Creating, attaching, detaching and removing one are journaled operations (`volume-steps.ts`):
 * each changes the manager's record and the host's file or domain together. The host keeps an
 * instance's attachments with the instance and adds them to every define of its domain, so
 * upgrade, rollback, reprovision, flatten and a comeback keep them without a word from here.
 *
 * @example
 * const volumes = new VolumeService({ store: new VolumeStore(db), hosts, instances, journal });
 * await volumes.create({ name: 'pgdata', sizeMiB: 1024 });
 * await volumes.attach('pgdata', 'db1'); // { ..., instance: 'db1', live: true }
 * await volumes.remove('pgdata'); // MGR_ERR_VOLUME_ATTACHED while attached
 */
import type { AttachedVolumeView, CreateVolumeBody, VolumeView } from '../../protocol/index.js';
import { MgrErr } from '../errors.js';
import type { HostRegistry } from '../hosts/host-registry.js';
import type { InstanceRow } from '../instances/instance-store.js';
import type { Journal } from '../operations/journal.js';
import { type VolumeRow, serialFor, type VolumeStore } from './volume-store.js';
import { type VolumeSteps, volumeSteps } from './volume-steps.js';

export interface VolumeServiceOptions {
  readonly store: VolumeStore;
  readonly hosts: HostRegistry;
  /** Finds an instance by name or id (404 otherwise). */
  readonly instances: { find(idOrName: string): Promise<InstanceRow> };
  readonly journal: Journal;
  /** The steps, when a launch shares them (its declared data volume); made here otherwise. */
  readonly steps?: VolumeSteps;
}

export class VolumeService {
  private readonly steps: VolumeSteps;

  constructor(private readonly opts: VolumeServiceOptions) {
    this.steps = opts.steps ?? volumeSteps(opts.store, opts.hosts);
    const s = this.steps;
    opts.journal.define(s.record, s.createOnHost, s.removeOnHost, s.forget, s.attachRecord, s.attachOnHost, s.detachOnHost, s.detachRecord);
    for (const name of ['volume-create', 'volume-remove', 'volume-attach', 'volume-detach']) opts.journal.defineKind({ name });
  }

  list(): Promise<VolumeView[]> {
    return this.opts.store.list();
  }

  async get(name: string): Promise<VolumeView> {
    const v = await this.opts.store.view(name);
    if (!v) throw MgrErr.MGR_ERR_VOLUME_NOT_FOUND(name);
    return v;
  }

  async create(req: CreateVolumeBody): Promise<VolumeView> {
    if (await this.opts.store.get(req.name)) throw MgrErr.MGR_ERR_VOLUME_EXISTS(req.name);
    const hostId = req.host ? (await this.opts.hosts.get(req.host)).id : await this.chooseHost();
    const intent = { name: req.name, hostId, sizeMiB: req.sizeMiB };
    await this.opts.journal.perform({ kind: 'volume-create', hostId, subject: { volume: req.name } }, async (op) => {
      await op.commit(this.steps.record, { ...intent, serial: serialFor(req.name) });
      await op.run(this.steps.createOnHost, intent);
    });
    return this.get(req.name);
  }

  /** Removes the volume and its data; refused while it is attached. */
  async remove(name: string): Promise<void> {
    const v = await this.row(name);
    if (v.instance_id) throw MgrErr.MGR_ERR_VOLUME_ATTACHED(`${name} is attached to ${(await this.get(name)).instance}; detach it first`);
    await this.opts.journal.perform({ kind: 'volume-remove', hostId: v.host_id, subject: { volume: name } }, async (op) => {
      await op.run(this.steps.removeOnHost, { name, hostId: v.host_id });
      await op.finish(this.steps.forget, { name, hostId: v.host_id });
    });
  }

  async attach(name: string, instance: string): Promise<AttachedVolumeView> {
    const v = await this.row(name);
    const inst = await this.opts.instances.find(instance);
    if (v.instance_id === inst.id) return { ...(await this.get(name)), live: false };
    if (v.instance_id) throw MgrErr.MGR_ERR_VOLUME_ATTACHED(`${name} is attached to ${(await this.get(name)).instance}; detach it first`);
    if (inst.host_id !== v.host_id)
      throw MgrErr.MGR_ERR_VOLUME_HOST(`${name} is on host ${(await this.get(name)).host}; ${inst.name} is not`);
    const intent = { name, hostId: v.host_id, instanceId: inst.id, serial: v.serial };
    const live = await this.opts.journal.perform(
      { kind: 'volume-attach', instanceId: inst.id, hostId: v.host_id, subject: { volume: name, name: inst.name } },
      async (op) => {
        await op.commit(this.steps.attachRecord, intent);
        return op.run(this.steps.attachOnHost, intent);
      },
    );
    return { ...(await this.get(name)), live };
  }

  /** Detaches (hot-unplug while the guest runs: unmount it there first); nothing to do when not attached. */
  async detach(name: string): Promise<VolumeView> {
    const v = await this.row(name);
    if (!v.instance_id) return this.get(name);
    const intent = { name, hostId: v.host_id, instanceId: v.instance_id, serial: v.serial };
    await this.opts.journal.perform(
      { kind: 'volume-detach', instanceId: v.instance_id, hostId: v.host_id, subject: { volume: name } },
      async (op) => {
        await op.run(this.steps.detachOnHost, intent);
        await op.finish(this.steps.detachRecord, intent);
      },
    );
    return this.get(name);
  }

  private async row(name: string): Promise<VolumeRow> {
    const v = await this.opts.store.get(name);
    if (!v) throw MgrErr.MGR_ERR_VOLUME_NOT_FOUND(name);
    return v;
  }

  /** A ready host that is not drained, the one holding the fewest volumes (then by name). */
  private async chooseHost(): Promise<string> {
    // A drained host takes nothing new, volumes included (docs/hosts.md); a pinned volume is the administrator's choice.
    const ready = (await this.opts.hosts.list()).filter((h) => h.status === 'ready' && !h.drained);
    if (!ready.length) throw MgrErr.MGR_ERR_NO_CAPACITY('no ready host to hold the volume');
    const counts = await this.opts.store.countByHost();
    ready.sort((a, b) => (counts.get(a.id) ?? 0) - (counts.get(b.id) ?? 0) || a.name.localeCompare(b.name));
    return ready[0]!.id;
  }
}
