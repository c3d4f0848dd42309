/**
 * Blutopia's operations over an instance's layer stack, each one journaled operation (its kind is
 * the action's name). Every operation but flatten records a checkpoint: the current writable layer
 * is frozen and a new empty one goes on top.
 * - checkpoint: just that;
 * - rollback { checkpoint }: that checkpoint's stack under a new writable layer (the state left
 *   behind is itself recorded, so a rollback can be rolled back);
 * - upgrade { version }: the target version's layers, the instance's deployment layers and frozen
 *   writable layers kept, so local changes survive;
 * - reprovision { appliance }: another appliance on a fresh stack (identity copied over);
 * - package { name, version }: the writable layers become one deployment layer in the local channel
 *   (a traditional instance: its overlay chain becomes one image, a traditional appliance of its own);
 * - flatten: the frozen writable layers merged into one (same content, shallower stack).
 * A running instance is stopped for the change and started again, and the operation says so
 * first. The steps (stage, stop, writable layer, define, start, commit; `host-steps.ts`,
 * `restack-steps.ts`) each carry their undo, so any failure, and any crash once reconcile runs,
 * puts the instance back on its previous stack, running if it ran.
 *
 * @example
 * await lifecycle.run('web1', { action: 'upgrade', version: '1.1.0' });
 */
import type { Catalog, CatalogEntry } from '../catalog/catalog.js';
import { MgrErr } from '../errors.js';
import type { EventBus } from '../events/bus.js';
import { type GuestSpec, guestSpecFor } from '../guests/guest-spec.js';
import type { HostClient } from '../hosts/host-client.js';
import type { HostRegistry } from '../hosts/host-registry.js';
import { newId } from '../ids.js';
import type { LayerCache } from '../images/layer-cache.js';
import type { PullService } from '../images/pull-service.js';
import { type DomainRequests, identityOf, shapeOf, type StackShape } from '../instances/domain-request.js';
import type { HostSteps } from '../instances/host-steps.js';
import type { InstanceService } from '../instances/instance-service.js';
import type { InstanceFile, InstanceRow, InstanceStore } from '../instances/instance-store.js';
import { resolveParams } from '../instances/params.js';
import type { Staging } from '../instances/staging.js';
import type { Journal, Operation, RevertOutcome } from '../operations/journal.js';
import type { OperationRecord } from '../operations/journal-store.js';
import type { CheckpointStore } from './checkpoint-store.js';
import type { Packager } from './packager.js';
import type { RecordedStack, RestackSteps } from './restack-steps.js';
import { COPIED_ON_REPROVISION, MAX_STACK_DEPTH, stackDepth, upgradeFiles } from './stacks.js';

export type LifecycleAction =
  | { readonly action: 'checkpoint'; readonly label?: string }
  | { readonly action: 'rollback'; readonly checkpoint: string }
  | { readonly action: 'upgrade'; readonly version: string }
  | {
      readonly action: 'reprovision';
      readonly appliance: string;
      readonly version?: string;
      readonly params?: Readonly<Record<string, unknown>>;
    }
  | { readonly action: 'package'; readonly name: string; readonly version: string }
  | { readonly action: 'flatten' };

export interface LifecycleResult {
  /** The checkpoint recorded before the change (absent for flatten). */
  readonly checkpoint: string | null;
  /** True when the instance was running: it was stopped for the change and started again. */
  readonly restarted: boolean;
  readonly package?: { readonly name: string; readonly version: string; readonly sha256: string; readonly size: number };
}

/** What an operation changes in the instance's row besides its stack. */
interface RowChange {
  readonly appliance: string;
  readonly version: string;
  readonly channelId: string | null;
  readonly memoryMiB: number;
  readonly vcpus: number;
  readonly params: string;
  readonly guestSpec: string;
}

interface Plan {
  readonly op: LifecycleAction['action'];
  readonly reason: string;
  readonly files: readonly InstanceFile[];
  /** The new stack's frozen layers; `undefined`: the current ones plus the layer frozen now. */
  readonly frozen?: readonly string[];
  readonly change?: RowChange;
  readonly copyPaths?: readonly string[];
  /** Steps after the commit (package's); the operation then closes with their last. */
  readonly afterCommit?: (
    op: Operation,
    at: { readonly checkpointFrozen: readonly string[]; readonly before: RecordedStack },
  ) => Promise<Partial<LifecycleResult>>;
}

export interface LifecycleOptions {
  readonly journal: Journal;
  readonly store: InstanceStore;
  readonly instances: InstanceService;
  readonly hosts: HostRegistry;
  readonly catalog: Catalog;
  readonly pulls: PullService;
  readonly cache: LayerCache;
  readonly checkpoints: CheckpointStore;
  readonly bus: EventBus;
  readonly staging: Staging;
  readonly requests: DomainRequests;
  readonly hostSteps: HostSteps;
  readonly restackSteps: RestackSteps;
  /** Builds and publishes packages (the local channel); without it, `package` is refused. */
  readonly packager?: Packager;
  readonly stopTimeoutMs?: number;
}

const KINDS: readonly LifecycleAction['action'][] = ['checkpoint', 'rollback', 'upgrade', 'reprovision', 'package', 'flatten'];

const json = <T>(s: string): T => JSON.parse(s) as T;

/** What a traditional (image) instance can do: external snapshots of its one disk, going back to one, and packaging it. */
const IMAGE_ACTIONS: ReadonlySet<string> = new Set(['checkpoint', 'rollback', 'package']);

export class LifecycleService {
  /** Operations starting or running in this process; reconcile leaves their instances alone. */
  private readonly active = new Set<string>();

  constructor(private readonly opts: LifecycleOptions) {
    const { journal, staging, hostSteps: h, restackSteps: r, packager } = opts;
    journal.define(staging.step, h.stopForChange, h.writableLayer, h.define, h.start, r.commit, r.merge, r.flattened);
    if (packager) journal.define(packager.build, packager.ingest, packager.publish);
    for (const name of KINDS) journal.defineKind({ name, reverted: (op, outcome) => this.reverted(op, outcome) });
  }

  isActive(instanceId: string): boolean {
    return this.active.has(instanceId) || this.opts.journal.isActive(instanceId);
  }

  async run(idOrName: string, action: LifecycleAction): Promise<LifecycleResult> {
    const row = await this.opts.instances.find(idOrName);
    if (this.isActive(row.id)) throw MgrErr.MGR_ERR_CONFLICT(`instance ${row.name} is in the middle of another operation`);
    if (!['running', 'stopped'].includes(row.state))
      throw MgrErr.MGR_ERR_CONFLICT(`instance ${row.name} is ${row.state}; lifecycle operations need it running or stopped`);
    // A traditional instance is one disk: its layers cannot be swapped, copied from or packaged (docs/lifecycle.md).
    if (!IMAGE_ACTIONS.has(action.action) && (await this.opts.store.files(row.id)).some((f) => f.kind === 'image'))
      throw MgrErr.MGR_ERR_CONFLICT(
        `${row.name} is a traditional appliance (one disk image): only checkpoint, rollback and package apply to it`,
      );
    this.active.add(row.id);
    try {
      const open = await this.opts.journal.openFor(row.id);
      if (open.length)
        throw MgrErr.MGR_ERR_CONFLICT(
          `instance ${row.name} has an interrupted ${open[0]!.kind} that reconcile has not finished or undone yet`,
        );
      switch (action.action) {
        case 'checkpoint':
          return await this.restack(row, {
            op: 'checkpoint',
            reason: action.label?.slice(0, 200) || 'checkpoint',
            files: await this.opts.store.files(row.id),
          });
        case 'rollback':
          return await this.rollback(row, action.checkpoint);
        case 'upgrade':
          return await this.upgrade(row, action.version);
        case 'reprovision':
          return await this.reprovision(row, action);
        case 'package':
          return await this.package(row, action.name, action.version);
        case 'flatten':
          return await this.flatten(row);
      }
    } finally {
      this.active.delete(row.id);
    }
  }

  private async rollback(row: InstanceRow, checkpoint: string): Promise<LifecycleResult> {
    const cp = await this.opts.checkpoints.get(row.id, checkpoint);
    if (!cp) throw MgrErr.MGR_ERR_NOT_FOUND(`checkpoint ${checkpoint} of ${row.name}`);
    const files = json<InstanceFile[]>(cp.files);
    const entry = await this.opts.catalog.resolve(cp.appliance, cp.version, cp.channel_id ?? undefined).catch(() => undefined);
    return this.restack(row, {
      op: 'rollback',
      reason: `before rollback to #${cp.seq}`,
      files,
      frozen: json<string[]>(cp.frozen),
      change: {
        appliance: cp.appliance,
        version: cp.version,
        channelId: cp.channel_id,
        memoryMiB: entry?.memoryMiB ?? row.memory_mib,
        vcpus: entry?.vcpus ?? row.vcpus,
        params: cp.params,
        guestSpec: cp.guest_spec,
      },
    });
  }

  /** The target of an upgrade or reprovision, pulled (a bad layer fails here, before anything changes). */
  private async target(name: string, version: string | undefined, channel: string | undefined): Promise<CatalogEntry> {
    const entry = await this.opts.catalog.resolve(name, version, channel);
    if (!entry.cached) await this.opts.pulls.pull(entry);
    return entry;
  }

  private change(entry: CatalogEntry, params: Record<string, unknown>, row: InstanceRow): RowChange {
    // The new version's config, records and principals; the data volume made at launch stays.
    const guestSpec = guestSpecFor(entry.descriptor, json<GuestSpec>(row.guest_spec).dataVolume);
    return {
      appliance: entry.name,
      version: entry.version,
      channelId: entry.channelId,
      memoryMiB: entry.memoryMiB,
      vcpus: entry.vcpus,
      params: JSON.stringify(params),
      guestSpec: JSON.stringify(guestSpec),
    };
  }

  private async upgrade(row: InstanceRow, version: string): Promise<LifecycleResult> {
    if (version === row.version) throw MgrErr.MGR_ERR_CONFLICT(`${row.name} already runs ${row.appliance} ${version}`);
    const entry = await this.target(row.appliance, version, row.channel_id ?? undefined);
    const current = await this.opts.store.files(row.id);
    const oldVersion = await this.opts.catalog.resolve(row.appliance, row.version, row.channel_id ?? undefined).catch(() => undefined);
    const files = upgradeFiles(current, entry.files.map(toInstanceFile), (oldVersion?.files ?? []).map(toInstanceFile));
    // Parameters carry over where the new version still declares them; new ones take their defaults.
    const old = json<Record<string, unknown>>(row.params);
    const known = new Set(entry.descriptor.parameters.map((p) => p.name));
    const params = resolveParams(entry.descriptor.parameters, Object.fromEntries(Object.entries(old).filter(([k]) => known.has(k))));
    return this.restack(row, {
      op: 'upgrade',
      reason: `before upgrade to ${entry.version}`,
      files,
      change: this.change(entry, params, row),
    });
  }

  private async reprovision(
    row: InstanceRow,
    a: { appliance: string; version?: string; params?: Readonly<Record<string, unknown>> },
  ): Promise<LifecycleResult> {
    const entry = await this.target(a.appliance, a.version, undefined);
    const params = resolveParams(entry.descriptor.parameters, a.params ?? {});
    return this.restack(row, {
      op: 'reprovision',
      reason: `before reprovision as ${entry.name} ${entry.version}`,
      files: entry.files.map(toInstanceFile),
      frozen: [],
      change: this.change(entry, params, row),
      copyPaths: COPIED_ON_REPROVISION,
    });
  }

  private async package(row: InstanceRow, name: string, version: string): Promise<LifecycleResult> {
    const packager = this.opts.packager;
    if (!packager) throw MgrErr.MGR_ERR_UNAVAILABLE('packaging is not configured');
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(name) || !/^[0-9A-Za-z.+-]{1,64}$/.test(version))
      throw MgrErr.MGR_ERR_VALIDATION('package name: lower-case letters, digits and dashes; version: a version string');
    if (await packager.exists(name, version)) throw MgrErr.MGR_ERR_CONFLICT(`package ${name} ${version} exists`);
    const hostId = this.hostOf(row);
    const files = await this.opts.store.files(row.id);
    const image = files.some((f) => f.kind === 'image');
    const result = await this.restack(row, {
      op: 'package',
      reason: `package as ${name} ${version}`,
      files,
      // After the checkpoint every writable layer of the stack is frozen: together they are the package
      // (a traditional instance's: the top one, whose overlay chain holds the rest).
      afterCommit: async (op, { checkpointFrozen, before }) => {
        const built = await op.run(packager.build, { hostId, instanceId: row.id, layers: checkpointFrozen, image });
        const existed = await this.opts.cache.has(built.sha256);
        await op.run(packager.ingest, {
          hostId,
          instanceId: row.id,
          ...built,
          label: `package ${name} ${version} from ${row.name}`,
          existed,
          image,
        });
        const base = await this.opts.catalog.resolve(row.appliance, row.version, row.channel_id ?? undefined).catch(() => undefined);
        const common = {
          memoryMiB: row.memory_mib,
          vcpus: row.vcpus,
          parameters: base?.descriptor.parameters ?? [],
          guestSpec: json<GuestSpec>(row.guest_spec),
        };
        const spec = image
          ? {
              ...common,
              files: [{ position: 0, role: 'layer' as const, kind: 'image', sha256: built.sha256, size: built.size }],
              image: { format: 'qcow2' as const, firmware: base?.descriptor.image?.firmware ?? 'bios' },
            }
          : {
              ...common,
              files: [
                ...before.files,
                { position: 0, role: 'layer' as const, kind: 'deployment', sha256: built.sha256, size: built.size },
              ].map((f, position) => ({ ...f, position })),
            };
        await op.finish(
          packager.publish,
          { name, version, instanceId: row.id, ...built, image },
          { base: { channelId: row.channel_id, name: row.appliance, version: row.version }, spec },
        );
        return { package: { name, version, ...built } };
      },
    });
    await packager.afterPublish();
    this.opts.bus.publish('instance.packaged', { id: row.id, name: row.name, package: name, version, sha256: result.package?.sha256 });
    return result;
  }

  private async flatten(row: InstanceRow): Promise<LifecycleResult> {
    const frozen = json<string[]>(row.frozen);
    if (frozen.length < 2) throw MgrErr.MGR_ERR_CONFLICT(`${row.name} has ${frozen.length} frozen layer(s): nothing to flatten`);
    const { journal, hostSteps: h, restackSteps: r, requests } = this.opts;
    const hostId = this.hostOf(row);
    const previous = shapeOf(row, await this.opts.store.files(row.id));
    const identity = identityOf(row);
    const wasRunning = row.state === 'running';
    const keep = [...(await this.opts.checkpoints.referencedLayers(row.id)), ...frozen];
    await journal.perform({ kind: 'flatten', instanceId: row.id, hostId, subject: { name: row.name, wasRunning } }, async (op) => {
      await this.stopFor(op, row, hostId, previous, 'flatten');
      const merged = await op.run(r.merge, { hostId, instanceId: row.id, layers: frozen, keep });
      await op.run(h.define, { hostId, instanceId: row.id }, requests.build(identity, { ...previous, frozen: [merged] }));
      if (wasRunning) await op.run(h.start, { hostId, instanceId: row.id });
      await op.finish(r.flattened, { instanceId: row.id, frozen: [merged], state: wasRunning ? 'running' : 'stopped' });
    });
    await this.collect(row.id, await this.opts.hosts.client(hostId));
    this.opts.bus.publish('instance.flattened', { id: row.id, name: row.name, layers: frozen.length });
    return { checkpoint: null, restarted: wasRunning };
  }

  private hostOf(row: InstanceRow): string {
    if (!row.host_id) throw MgrErr.MGR_ERR_CONFLICT(`instance ${row.name} has no host`);
    return row.host_id;
  }

  /** Says what will happen, then stops a running instance (a step: its undo puts the previous stack back). */
  private async stopFor(op: Operation, row: InstanceRow, hostId: string, previous: StackShape, what: string): Promise<void> {
    const wasRunning = row.state === 'running';
    this.opts.bus.publish('instance.operation', {
      id: row.id,
      name: row.name,
      op: what,
      phase: 'begin',
      restart: wasRunning,
      message: wasRunning
        ? `${row.name} is running: it is stopped for the ${what} and started again afterwards`
        : `${what} of ${row.name} (stopped, stays stopped)`,
    });
    await op.run(this.opts.hostSteps.stopForChange, {
      hostId,
      instance: identityOf(row),
      wasRunning,
      previous,
      ...(this.opts.stopTimeoutMs ? { timeoutMs: this.opts.stopTimeoutMs } : {}),
    });
    if (wasRunning) await this.opts.instances.setState(row, 'stopped');
  }

  /**
   * Checkpoint, then the new stack: stage its layers, stop, a new writable layer on top of `plan`'s
   * image and frozen layers, define, start (if it ran), then the checkpoint and the new stack
   * committed in one transaction, which closes the operation (or `plan.afterCommit`'s steps after it do).
   */
  private async restack(row: InstanceRow, plan: Plan): Promise<LifecycleResult> {
    const { journal, hostSteps: h, restackSteps: r, requests, staging } = this.opts;
    const hostId = this.hostOf(row);
    const before: RecordedStack = {
      ...shapeOf(row, await this.opts.store.files(row.id)),
      channelId: row.channel_id,
      params: row.params,
      guestSpec: row.guest_spec,
    };
    const current = (await (await this.opts.hosts.client(hostId)).writableLayers(row.id)).layers.find((l) => l.current);
    if (!current) throw MgrErr.MGR_ERR_CONFLICT(`the host holds no writable layer for ${row.name}`);
    const checkpointFrozen = [...before.frozen, current.id];
    const frozen = plan.frozen ?? checkpointFrozen;
    const depth = stackDepth(plan.files, frozen);
    if (depth > MAX_STACK_DEPTH)
      throw MgrErr.MGR_ERR_CONFLICT(`the stack would be ${depth} disks deep, the most is ${MAX_STACK_DEPTH}: flatten ${row.name} first`);
    const c = plan.change;
    const after: RecordedStack = c ? { ...c, files: plan.files, frozen } : { ...before, files: plan.files, frozen };
    const identity = identityOf(row);
    const wasRunning = row.state === 'running';
    return journal.perform({ kind: plan.op, instanceId: row.id, hostId, subject: { name: row.name, wasRunning } }, async (op) => {
      await op.run(staging.step, { hostId, files: plan.files });
      await this.stopFor(op, row, hostId, before, plan.op);
      await op.run(h.writableLayer, {
        hostId,
        instanceId: row.id,
        previousCurrent: current.id,
        ...(plan.copyPaths ? { copyPaths: plan.copyPaths } : {}),
        // A traditional instance's new overlay stacks on the top of the stack it is going to.
        ...(plan.files.some((f) => f.kind === 'image') && frozen.length ? { on: frozen.at(-1) } : {}),
      });
      await op.run(h.define, { hostId, instanceId: row.id }, requests.build(identity, after));
      if (wasRunning) await op.run(h.start, { hostId, instanceId: row.id });
      const checkpointId = newId('cp');
      const commit = {
        instanceId: row.id,
        checkpointId,
        reason: plan.reason,
        checkpointFrozen,
        before,
        after,
        state: wasRunning ? ('running' as const) : ('stopped' as const),
      };
      let more: Partial<LifecycleResult> = {};
      if (plan.afterCommit) {
        await op.commit(r.commit, commit);
        more = await plan.afterCommit(op, { checkpointFrozen, before });
      } else {
        await op.finish(r.commit, commit);
      }
      this.opts.bus.publish('instance.operation', {
        id: row.id,
        name: row.name,
        op: plan.op,
        phase: 'done',
        checkpoint: checkpointId,
        restart: wasRunning,
      });
      this.opts.bus.publish('instance.state', { id: row.id, name: row.name, state: wasRunning ? 'running' : 'stopped', from: row.state });
      return { checkpoint: checkpointId, restarted: wasRunning, ...more };
    });
  }

  /** Undone (in this process or by reconcile): the instance is on its previous stack, running if it ran and the undo went through. */
  private async reverted(op: OperationRecord, outcome: RevertOutcome): Promise<void> {
    if (!op.instanceId) return;
    const wasRunning = op.subject['wasRunning'] === true;
    const problems = outcome.problems.length ? `; undo: ${outcome.problems.join('; ')}` : '';
    await this.opts.store.setState(op.instanceId, wasRunning && outcome.complete ? 'running' : 'stopped', {
      error: `operation failed (${outcome.reason})${problems}`,
    });
    this.opts.bus.publish('instance.operation', {
      id: op.instanceId,
      name: op.subject['name'],
      phase: 'failed',
      error: outcome.reason,
      undone: outcome.complete,
    });
  }

  /** `collect` for an instance by id, with its host's client. */
  async collectFor(instanceId: string): Promise<string[]> {
    const row = (await this.opts.store.get(instanceId))!;
    return this.collect(instanceId, await this.opts.hosts.client(this.hostOf(row)));
  }

  /** Removes the host's writable layers no stack and no checkpoint uses any more. */
  async collect(instanceId: string, client: HostClient): Promise<string[]> {
    const row = (await this.opts.store.get(instanceId))!;
    const keep = await this.opts.checkpoints.referencedLayers(instanceId);
    for (const id of json<string[]>(row.frozen)) keep.add(id);
    const removed: string[] = [];
    for (const l of (await client.writableLayers(instanceId)).layers) {
      if (l.current || keep.has(l.id)) continue;
      await client.removeWritableLayer(instanceId, l.id);
      removed.push(l.id);
    }
    return removed;
  }
}

function toInstanceFile(f: { position: number; role: InstanceFile['role']; kind: string; sha256: string; size: number }): InstanceFile {
  return { position: f.position, role: f.role, kind: f.kind, sha256: f.sha256, size: f.size };
}
