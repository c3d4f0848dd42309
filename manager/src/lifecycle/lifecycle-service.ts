/**
 * Blutopia's operations over an instance's layer stack. Every operation first records a
 * checkpoint: the current writable layer is frozen and a new empty one goes on top.
 * - checkpoint: just that;
 * - rollback { checkpoint }: that checkpoint's stack under a new writable layer (the state left
 *   behind is itself recorded, so a rollback can be rolled back);
 * - upgrade { version }: the target version's layers, the instance's deployment layers and frozen
 *   writable layers kept, so local changes survive;
 * - reprovision { appliance }: another appliance on a fresh stack (identity copied over);
 * - package { name, version }: the writable layers become one deployment layer in the local channel;
 * - flatten: the frozen writable layers merged into one (same content, shallower stack).
 * A running instance is stopped for the change and started again, and the operation says so
 * first. Any failure puts the instance back on its previous stack, running if it ran.
 *
 * @example
 * await lifecycle.run('web1', { action: 'upgrade', version: '1.1.0' });
 */
import { errorMessage, StormError } from '../../../common/errors.js';
import type { Catalog, CatalogEntry } from '../catalog/catalog.js';
import type { Database } from '../db/database.js';
import { MgrErr } from '../errors.js';
import type { EventBus } from '../events/bus.js';
import type { HostClient } from '../hosts/host-client.js';
import type { HostRegistry } from '../hosts/host-registry.js';
import { newId } from '../ids.js';
import type { PullService } from '../images/pull-service.js';
import type { InstanceService } from '../instances/instance-service.js';
import type { InstanceFile, InstanceRow, InstanceStore } from '../instances/instance-store.js';
import type { Launcher } from '../instances/launcher.js';
import { resolveParams } from '../instances/params.js';
import type { GuestSpec } from '../guests/guest-spec.js';
import type { CheckpointStore } from './checkpoint-store.js';
import { COPIED_ON_REPROVISION, MAX_STACK_DEPTH, stackDepth, upgradeFiles } from './stacks.js';

export type LifecycleAction =
  | { readonly action: 'checkpoint'; readonly label?: string }
  | { readonly action: 'rollback'; readonly checkpoint: string }
  | { readonly action: 'upgrade'; readonly version: string }
  | { readonly action: 'reprovision'; readonly appliance: string; readonly version?: string; readonly params?: Readonly<Record<string, unknown>> }
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
  readonly op: string;
  readonly reason: string;
  readonly files: readonly InstanceFile[];
  /** The new stack's frozen layers; `undefined`: the current ones plus the layer frozen now. */
  readonly frozen?: readonly string[];
  readonly change?: RowChange;
  readonly copyPaths?: readonly string[];
}

export interface LifecycleOptions {
  readonly db: Database;
  readonly store: InstanceStore;
  readonly instances: InstanceService;
  readonly hosts: HostRegistry;
  readonly catalog: Catalog;
  readonly pulls: PullService;
  readonly launcher: Launcher;
  readonly checkpoints: CheckpointStore;
  readonly bus: EventBus;
  /** Builds and publishes a package (the local channel), after the operation's checkpoint. */
  readonly packager?: (row: InstanceRow, client: HostClient, layers: readonly string[], name: string, version: string) => Promise<{ sha256: string; size: number }>;
  readonly stopTimeoutMs?: number;
}

const json = <T>(s: string): T => JSON.parse(s) as T;

export class LifecycleService {
  /** Operations running in this process; reconcile leaves their instances alone. */
  private readonly active = new Set<string>();

  constructor(private readonly opts: LifecycleOptions) {}

  isActive(instanceId: string): boolean {
    return this.active.has(instanceId);
  }

  async run(idOrName: string, action: LifecycleAction): Promise<LifecycleResult> {
    const row = await this.opts.instances.find(idOrName);
    if (this.active.has(row.id)) throw MgrErr.MGR_ERR_CONFLICT(`instance ${row.name} is in the middle of another operation`);
    if (!['running', 'stopped'].includes(row.state)) throw MgrErr.MGR_ERR_CONFLICT(`instance ${row.name} is ${row.state}; lifecycle operations need it running or stopped`);
    this.active.add(row.id);
    try {
      switch (action.action) {
        case 'checkpoint':
          return await this.restack(row, { op: 'checkpoint', reason: action.label?.slice(0, 200) || 'checkpoint', files: await this.opts.store.files(row.id) });
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

  private change(entry: CatalogEntry, params: Record<string, unknown>): RowChange {
    const guestSpec: GuestSpec = { config: entry.descriptor.config, records: entry.descriptor.records };
    return { appliance: entry.name, version: entry.version, channelId: entry.channelId, memoryMiB: entry.memoryMiB, vcpus: entry.vcpus, params: JSON.stringify(params), guestSpec: JSON.stringify(guestSpec) };
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
    return this.restack(row, { op: 'upgrade', reason: `before upgrade to ${entry.version}`, files, change: this.change(entry, params) });
  }

  private async reprovision(row: InstanceRow, a: { appliance: string; version?: string; params?: Readonly<Record<string, unknown>> }): Promise<LifecycleResult> {
    const entry = await this.target(a.appliance, a.version, undefined);
    const params = resolveParams(entry.descriptor.parameters, a.params ?? {});
    return this.restack(row, {
      op: 'reprovision',
      reason: `before reprovision as ${entry.name} ${entry.version}`,
      files: entry.files.map(toInstanceFile),
      frozen: [],
      change: this.change(entry, params),
      copyPaths: COPIED_ON_REPROVISION,
    });
  }

  private async package(row: InstanceRow, name: string, version: string): Promise<LifecycleResult> {
    if (!this.opts.packager) throw MgrErr.MGR_ERR_UNAVAILABLE('packaging is not configured');
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(name) || !/^[0-9A-Za-z.+-]{1,64}$/.test(version)) throw MgrErr.MGR_ERR_VALIDATION('package name: lower-case letters, digits and dashes; version: a version string');
    if (await this.opts.db.get('SELECT 1 FROM packages WHERE name = ? AND version = ?', [name, version])) throw MgrErr.MGR_ERR_CONFLICT(`package ${name} ${version} exists`);
    const result = await this.restack(row, { op: 'package', reason: `package as ${name} ${version}`, files: await this.opts.store.files(row.id) });
    // After the checkpoint every writable layer of the stack is frozen: together they are the package.
    const after = (await this.opts.store.get(row.id))!;
    const client = await this.opts.hosts.client(row.host_id!);
    const pkg = await this.opts.packager(after, client, json<string[]>(after.frozen), name, version);
    this.opts.bus.publish('instance.packaged', { id: row.id, name: row.name, package: name, version, sha256: pkg.sha256 });
    return { ...result, package: { name, version, ...pkg } };
  }

  private async flatten(row: InstanceRow): Promise<LifecycleResult> {
    const frozen = json<string[]>(row.frozen);
    if (frozen.length < 2) throw MgrErr.MGR_ERR_CONFLICT(`${row.name} has ${frozen.length} frozen layer(s): nothing to flatten`);
    const client = await this.client(row);
    const files = await this.opts.store.files(row.id);
    const wasRunning = await this.stopFor(row, client, 'flatten');
    try {
      const merged = await client.mergeLayers(row.id, { layers: frozen });
      try {
        await client.defineDomain(row.id, this.opts.launcher.domainRequest(row, { name: row.appliance, version: row.version, memoryMiB: row.memory_mib, vcpus: row.vcpus }, files, [merged.id]));
      } catch (err) {
        await client.removeWritableLayer(row.id, merged.id).catch(() => undefined);
        throw err;
      }
      await this.opts.db.run("UPDATE instances SET frozen = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?", [JSON.stringify([merged.id]), row.id]);
      await this.collect(row.id, client);
    } catch (err) {
      if (wasRunning) await client.action(row.id, { action: 'start' }).catch(() => undefined);
      throw err;
    }
    if (wasRunning) await client.action(row.id, { action: 'start' });
    this.opts.bus.publish('instance.flattened', { id: row.id, name: row.name, layers: frozen.length });
    return { checkpoint: null, restarted: wasRunning };
  }

  private async client(row: InstanceRow): Promise<HostClient> {
    if (!row.host_id) throw MgrErr.MGR_ERR_CONFLICT(`instance ${row.name} has no host`);
    return this.opts.hosts.client(row.host_id);
  }

  /** Says what will happen, then stops a running instance; true when it ran. */
  private async stopFor(row: InstanceRow, client: HostClient, op: string): Promise<boolean> {
    const wasRunning = row.state === 'running';
    this.opts.bus.publish('instance.operation', {
      id: row.id,
      name: row.name,
      op,
      phase: 'begin',
      restart: wasRunning,
      message: wasRunning ? `${row.name} is running: it is stopped for the ${op} and started again afterwards` : `${op} of ${row.name} (stopped, stays stopped)`,
    });
    if (wasRunning) {
      await client.action(row.id, { action: 'stop', timeoutMs: this.opts.stopTimeoutMs ?? 30_000 });
      await this.opts.instances.setState(row, 'stopped');
    }
    return wasRunning;
  }

  /**
   * Checkpoint, then the new stack: a new writable layer on top of `plan`'s image layers and frozen
   * layers, defined and (if it ran) started, then committed with the checkpoint in one transaction.
   * A failure anywhere removes the new layer and redefines the old stack.
   */
  private async restack(row: InstanceRow, plan: Plan): Promise<LifecycleResult> {
    const client = await this.client(row);
    const before = { files: await this.opts.store.files(row.id), frozen: json<string[]>(row.frozen) };
    const layers = await client.writableLayers(row.id);
    const current = layers.layers.find((l) => l.current);
    if (!current) throw MgrErr.MGR_ERR_CONFLICT(`the host holds no writable layer for ${row.name}`);
    const checkpointFrozen = [...before.frozen, current.id];
    const frozen = plan.frozen ?? checkpointFrozen;
    const depth = stackDepth(plan.files, frozen);
    if (depth > MAX_STACK_DEPTH) throw MgrErr.MGR_ERR_CONFLICT(`the stack would be ${depth} disks deep, the most is ${MAX_STACK_DEPTH}: flatten ${row.name} first`);
    await this.opts.launcher.stage(row.host_id!, plan.files);

    const wasRunning = await this.stopFor(row, client, plan.op);
    const change = plan.change;
    const domainFor = (files: readonly InstanceFile[], fz: readonly string[], c: { appliance: string; version: string; memoryMiB: number; vcpus: number }) =>
      this.opts.launcher.domainRequest(row, { name: c.appliance, version: c.version, memoryMiB: c.memoryMiB, vcpus: c.vcpus }, files, fz);
    const oldShape = { appliance: row.appliance, version: row.version, memoryMiB: row.memory_mib, vcpus: row.vcpus };
    let newLayer: string | undefined;
    // Written first: a crash from here on is undone by reconcile (see recover()).
    await this.setOperation(row.id, { op: plan.op, wasRunning, newLayer: null, before });
    try {
      const after = await client.newWritableLayer(row.id, plan.copyPaths ? { copyPaths: plan.copyPaths } : {});
      newLayer = after.layers.find((l) => l.current)?.id;
      await this.setOperation(row.id, { op: plan.op, wasRunning, newLayer: newLayer ?? null, before });
      await client.defineDomain(row.id, domainFor(plan.files, frozen, change ?? oldShape));
      if (wasRunning) await client.action(row.id, { action: 'start' });
      const checkpointId = newId('cp');
      await this.opts.db.transaction(async (tx) => {
        await this.opts.checkpoints.record(tx, checkpointId, row, before.files, checkpointFrozen, plan.reason);
        await tx.run('DELETE FROM instance_files WHERE instance_id = ?', [row.id]);
        for (const f of plan.files) await tx.run('INSERT INTO instance_files (instance_id, position, role, kind, sha256, size) VALUES (?, ?, ?, ?, ?, ?)', [row.id, f.position, f.role, f.kind, f.sha256, f.size]);
        await tx.run(
          `UPDATE instances SET frozen = ?, operation = NULL, appliance = ?, version = ?, channel_id = ?, memory_mib = ?, vcpus = ?, params = ?, guest_spec = ?, state = ?, last_error = NULL,
             updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?`,
          [
            JSON.stringify(frozen),
            change?.appliance ?? row.appliance,
            change?.version ?? row.version,
            change ? change.channelId : row.channel_id,
            change?.memoryMiB ?? row.memory_mib,
            change?.vcpus ?? row.vcpus,
            change?.params ?? row.params,
            change?.guestSpec ?? row.guest_spec,
            wasRunning ? 'running' : 'stopped',
            row.id,
          ],
        );
      });
      this.opts.bus.publish('instance.operation', { id: row.id, name: row.name, op: plan.op, phase: 'done', checkpoint: checkpointId, restart: wasRunning });
      this.opts.bus.publish('instance.state', { id: row.id, name: row.name, state: wasRunning ? 'running' : 'stopped', from: row.state });
      return { checkpoint: checkpointId, restarted: wasRunning };
    } catch (err) {
      await this.undo(row, client, { wasRunning, newLayer, before, shape: oldShape }, err);
      throw err;
    }
  }

  private async setOperation(id: string, op: { op: string; wasRunning: boolean; newLayer: string | null; before: { files: readonly InstanceFile[]; frozen: readonly string[] } } | null): Promise<void> {
    await this.opts.db.run('UPDATE instances SET operation = ? WHERE id = ?', [op ? JSON.stringify(op) : null, id]);
  }

  /** Back to the previous stack: drop the new layer (the old one is current again), redefine, restart. */
  private async undo(
    row: InstanceRow,
    client: HostClient,
    s: { wasRunning: boolean; newLayer: string | undefined; before: { files: readonly InstanceFile[]; frozen: readonly string[] }; shape: { appliance: string; version: string; memoryMiB: number; vcpus: number } },
    cause: unknown,
  ): Promise<void> {
    const reason = cause instanceof StormError ? `${cause.code}: ${cause.message}` : errorMessage(cause);
    const problems: string[] = [];
    await client.action(row.id, { action: 'destroy' }).catch(() => undefined);
    if (s.newLayer) await client.removeWritableLayer(row.id, s.newLayer).catch((e: unknown) => problems.push(`remove ${s.newLayer}: ${errorMessage(e)}`));
    await client
      .defineDomain(row.id, this.opts.launcher.domainRequest(row, { name: s.shape.appliance, version: s.shape.version, memoryMiB: s.shape.memoryMiB, vcpus: s.shape.vcpus }, s.before.files, s.before.frozen))
      .catch((e: unknown) => problems.push(`redefine: ${errorMessage(e)}`));
    if (s.wasRunning) await client.action(row.id, { action: 'start' }).catch((e: unknown) => problems.push(`restart: ${errorMessage(e)}`));
    await this.setOperation(row.id, null);
    await this.opts.store.setState(row.id, s.wasRunning && problems.length === 0 ? 'running' : 'stopped', { error: `operation failed (${reason})${problems.length ? `; undo: ${problems.join('; ')}` : ''}` });
    this.opts.bus.publish('instance.operation', { id: row.id, name: row.name, phase: 'failed', error: reason, undone: problems.length === 0 });
  }

  /** Reconcile: an operation that a crash interrupted is undone, back to the stack it started from. */
  async recover(row: InstanceRow): Promise<boolean> {
    if (!row.operation || this.active.has(row.id)) return false;
    const op = json<{ op: string; wasRunning: boolean; newLayer: string | null; before: { files: InstanceFile[]; frozen: string[] } }>(row.operation);
    const client = await this.client(row);
    await this.undo(row, client, { wasRunning: op.wasRunning, newLayer: op.newLayer ?? undefined, before: op.before, shape: { appliance: row.appliance, version: row.version, memoryMiB: row.memory_mib, vcpus: row.vcpus } }, new Error(`interrupted ${op.op}`));
    return true;
  }

  /** `collect` for an instance by id, with its host's client. */
  async collectFor(instanceId: string): Promise<string[]> {
    const row = (await this.opts.store.get(instanceId))!;
    return this.collect(instanceId, await this.client(row));
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
