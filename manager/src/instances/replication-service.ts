/**
 * Per-instance replication (`storm replicate NAME --to HOST`): at each checkpoint the instance's
 * frozen writable layers are copied to a second host, relayed by the manager and checked by sha256
 * where they land (the cold move's relay, `HostClient.openInstanceFile` → `receiveInstanceFile`).
 * Frozen layers never change, so they are copied while the guest runs; only the ones the replica
 * lacks travel, and the ones the instance no longer has are removed from it. On the replica host
 * they sit in the instance's folder with no domain defined: nothing runs there, and reconcile keeps
 * the folder since the instance is known.
 *
 * When the instance's host is declared dead, `recover` restarts it on the replica host from that
 * copy: its stack's read-only layers staged, a new empty writable layer on the frozen ones, the
 * domain defined and started (unless its desired state is stopped), then the record switched to that host (`replication-steps.ts`), one
 * journaled operation (kind `replica-restart`) whose undo leaves the replica as it was. What the guest
 * wrote after its last checkpoint is lost. docs/move.md, "Replication".
 *
 * @example
 * await replication.replicate('web1', 'host-b'); // copies what is frozen now, then at each checkpoint
 * await replication.stop('web1');                // the copy removed from host-b
 */
import { errorMessage } from '../../../common/errors.js';
import type { ReplicaView } from '../../protocol/index.js';
import { MgrErr } from '../errors.js';
import type { EventBus } from '../events/bus.js';
import { hostCode } from '../hosts/host-client.js';
import type { HostRegistry } from '../hosts/host-registry.js';
import type { HostRow } from '../hosts/host-store.js';
import type { CheckpointStore } from '../lifecycle/checkpoint-store.js';
import type { OperationRecord } from '../operations/journal-store.js';
import type { Journal, RevertOutcome } from '../operations/journal.js';
import { type DomainRequests, identityOf, shapeOf } from './domain-request.js';
import type { HostSteps } from './host-steps.js';
import type { InstanceService } from './instance-service.js';
import type { InstanceRow, InstanceStore } from './instance-store.js';
import type { ReplicaStore } from './replication-store.js';
import type { ReplicationSteps } from './replication-steps.js';
import type { Staging } from './staging.js';

export interface ReplicationOptions {
  readonly store: InstanceStore;
  readonly replicas: ReplicaStore;
  readonly hosts: HostRegistry;
  readonly instances: InstanceService;
  readonly checkpoints: CheckpointStore;
  readonly journal: Journal;
  readonly staging: Staging;
  readonly hostSteps: HostSteps;
  readonly steps: ReplicationSteps;
  readonly requests: DomainRequests;
  readonly bus: EventBus;
}

/** What a restart from a replica did, per instance. */
export interface RecoveryResult {
  readonly id: string;
  readonly name: string;
  readonly copyOn: string;
  readonly restarted: boolean;
  readonly error?: string;
}

/** `writable/w3.qcow2`, `writable/w3.merged.qcow2` → `w3`; a legacy `instance.qcow2` is `w0`. */
export function layerIdOf(path: string): string | null {
  if (path === 'instance.qcow2') return 'w0';
  return /^writable\/(w[0-9]+)(\.merged)?\.qcow2$/.exec(path)?.[1] ?? null;
}

export class Replication {
  /** One copy per instance at a time: checkpoints may come faster than copies. */
  private readonly copying = new Map<string, Promise<void>>();

  constructor(private readonly opts: ReplicationOptions) {
    const { journal, staging, hostSteps: h, steps } = opts;
    journal.define(staging.step, h.writableLayer, h.define, h.start, steps.switchHost);
    journal.defineKind({ name: 'replica-restart', reverted: (op, outcome) => this.reverted(op, outcome) });
    // Each checkpoint (every lifecycle operation records one) is copied once it is done.
    opts.bus.subscribe((e) => {
      if (e.type !== 'instance.operation' || e.data['phase'] !== 'done' || typeof e.data['checkpoint'] !== 'string') return;
      const id = e.data['id'];
      if (typeof id === 'string') void this.copySoon(id).catch(() => undefined);
    });
  }

  /** The host `to` names (name or id), if it can keep a replica: known, not revoked, not declared dead. */
  async replicaHost(to: string): Promise<HostRow> {
    const host = (await this.opts.hosts.store.byName(to)) ?? (await this.opts.hosts.store.get(to));
    if (!host || host.status === 'revoked') throw MgrErr.MGR_ERR_NOT_FOUND(`host ${to}`);
    if (host.dead_at) throw MgrErr.MGR_ERR_CONFLICT(`host ${host.name} was declared dead`);
    return host;
  }

  /**
   * Replicates the instance to `to` (a host's name or id), copying what is frozen now; later
   * checkpoints follow, and with `everyS` the manager takes one that often (`replication-schedule.ts`).
   */
  async replicate(idOrName: string, to: string, everyS: number | null = null): Promise<ReplicaView> {
    const row = await this.opts.instances.find(idOrName);
    const host = await this.replicaHost(to);
    if (row.host_id === host.id)
      throw MgrErr.MGR_ERR_CONFLICT(`instance ${row.name} lives on ${host.name}: a replica goes on another host`);
    if ((await this.opts.store.files(row.id)).some((f) => f.kind === 'image'))
      throw MgrErr.MGR_ERR_MOVE_UNSUPPORTED(`${row.name} is a traditional (disk-image) instance: only layered instances are replicated`);
    const before = await this.opts.replicas.get(row.id);
    // The copy on the host it leaves goes (never from the host the instance lives on).
    if (before && before.host_id !== host.id) await this.removeCopy(row, before.host_id);
    await this.opts.replicas.set(row.id, host.id, everyS);
    await this.copySoon(row.id);
    const replica = await this.opts.replicas.get(row.id);
    if (replica?.error) throw MgrErr.MGR_ERR_HOST(`replica of ${row.name} on ${host.name}: ${replica.error}`);
    return this.view(row.id);
  }

  /** The instance's replica, or 404 when it has none. */
  async view(idOrName: string): Promise<ReplicaView> {
    const row = await this.opts.instances.find(idOrName);
    const r = await this.opts.replicas.get(row.id);
    if (!r) throw MgrErr.MGR_ERR_NOT_FOUND(`replica of ${row.name} (storm replicate ${row.name} --to HOST)`);
    const host = await this.opts.hosts.store.get(r.host_id);
    return {
      instance: row.name,
      host: host?.name ?? r.host_id,
      checkpoint: r.checkpoint_id,
      layers: JSON.parse(r.layers) as string[],
      bytes: r.bytes,
      replicatedAt: r.replicated_at,
      error: r.error,
      every: r.every_s,
    };
  }

  /** Replication off: the copy removed from the replica host, the record gone. */
  async stop(idOrName: string): Promise<void> {
    const row = await this.opts.instances.find(idOrName);
    const r = await this.opts.replicas.get(row.id);
    if (!r) throw MgrErr.MGR_ERR_NOT_FOUND(`replica of ${row.name}`);
    await this.removeCopy(row, r.host_id);
    await this.opts.replicas.remove(row.id);
  }

  /** Removes the instance's copy from `hostId`, never from the host the instance lives on; a silent host keeps it (its reconcile removes it later as an orphan only once the instance is gone). */
  private async removeCopy(row: InstanceRow, hostId: string): Promise<void> {
    if ((await this.opts.store.get(row.id))?.host_id === hostId) return;
    try {
      await (await this.opts.hosts.client(hostId)).removeInstance(row.id);
    } catch (err) {
      if (hostCode(err) !== 'STORMD_ERR_INSTANCE_NOT_FOUND') throw err;
    }
  }

  /** Copies the instance's frozen layers to its replica host now (after any copy already under way). */
  copySoon(instanceId: string): Promise<void> {
    const prev = this.copying.get(instanceId) ?? Promise.resolve();
    const next = prev
      .then(() => this.copy(instanceId))
      .finally(() => {
        if (this.copying.get(instanceId) === next) this.copying.delete(instanceId);
      });
    this.copying.set(instanceId, next);
    return next;
  }

  private async copy(instanceId: string): Promise<void> {
    const { replicas, hosts, store, bus } = this.opts;
    const [row, replica] = [await store.get(instanceId), await replicas.get(instanceId)];
    if (!row?.host_id || !replica) return;
    try {
      if (row.host_id === replica.host_id)
        throw new Error(`the instance now lives on its replica host; storm replicate ${row.name} --to ANOTHER`);
      const [source, target] = [await hosts.client(row.host_id), await hosts.client(replica.host_id)];
      const frozen = (await source.frozenInstanceFiles(instanceId)).files;
      const have = new Map((await target.instanceFiles(instanceId).catch(notFoundAsNone)).files.map((f) => [f.path, f.sha256]));
      let bytes = 0;
      // One file at a time, streamed through the manager, checked by sha256 where it lands; one the replica holds stays.
      for (const file of frozen) {
        bytes += file.size;
        if (have.get(file.path) === file.sha256) continue;
        await target.receiveInstanceFile(instanceId, file, await source.openInstanceFile(instanceId, file.path));
      }
      const keep = new Set(frozen.map((f) => f.path));
      for (const path of have.keys()) {
        const layer = layerIdOf(path);
        if (layer && !keep.has(path)) await target.removeWritableLayer(instanceId, layer);
      }
      const checkpoint = (await this.opts.checkpoints.list(instanceId)).at(-1)?.id ?? null;
      const layers = frozen.flatMap((f) => layerIdOf(f.path) ?? []);
      await replicas.copied(instanceId, checkpoint, layers, bytes);
      bus.publish('instance.replicated', { id: row.id, name: row.name, host: replica.host_id, checkpoint, layers, bytes });
    } catch (err) {
      await replicas.failed(instanceId, errorMessage(err));
      bus.publish('instance.replica-failed', { id: row.id, name: row.name, host: replica.host_id, error: errorMessage(err) });
    }
  }

  /**
   * For a declaration: which of these instances a replica can restart (id → the replica host's
   * name): copied at least once, every frozen layer of its stack there, on a host that is not dead.
   */
  readonly copies = async (instanceIds: readonly string[]): Promise<ReadonlyMap<string, string>> => {
    const out = new Map<string, string>();
    for (const [id, r] of await this.opts.replicas.byInstances(instanceIds)) {
      const [row, host] = [await this.opts.store.get(id), await this.opts.hosts.store.get(r.host_id)];
      if (!row || !host || host.dead_at || host.status === 'revoked' || r.checkpoint_id === null || row.host_id === host.id) continue;
      const held = new Set(JSON.parse(r.layers) as string[]);
      if ((JSON.parse(row.frozen) as string[]).every((l) => held.has(l))) out.set(id, host.name);
    }
    return out;
  };

  /**
   * A host was declared dead: the replicas it kept are gone with it, and each instance a replica
   * can restart is restarted on its replica host (one at a time; a failure leaves that one `unknown`
   * with why, and the others go on).
   */
  async recover(dead: HostRow, recoverable: readonly { id: string; name: string; copyOn: string }[]): Promise<RecoveryResult[]> {
    for (const r of await this.opts.replicas.byHost(dead.id)) await this.opts.replicas.remove(r.instance_id);
    const out: RecoveryResult[] = [];
    for (const item of recoverable) {
      try {
        await this.restart(item.id, dead.id);
        out.push({ ...item, restarted: true });
      } catch (err) {
        out.push({ ...item, restarted: false, error: errorMessage(err) });
      }
    }
    return out;
  }

  /** The instance restarted on its replica host from the copy there (the file's comment). */
  private async restart(instanceId: string, from: string): Promise<void> {
    const { store, replicas, hosts, journal, staging, hostSteps: h, steps, requests, instances, bus } = this.opts;
    const row = await store.get(instanceId);
    const replica = await replicas.get(instanceId);
    if (!row || !replica) throw MgrErr.MGR_ERR_NOT_FOUND(`replica of ${instanceId}`);
    if (row.host_id !== from) throw MgrErr.MGR_ERR_CONFLICT(`instance ${row.name} no longer lives on the dead host`);
    const to = replica.host_id;
    const files = await store.files(row.id);
    const previous = (await (await hosts.client(to)).writableLayers(row.id)).layers.find((l) => l.current)?.id ?? null;
    const run = row.desired === 'running';
    await journal.perform(
      { kind: 'replica-restart', instanceId: row.id, hostId: to, subject: { name: row.name, from, to, checkpoint: replica.checkpoint_id } },
      async (op) => {
        await op.run(staging.step, { hostId: to, files });
        await op.run(h.writableLayer, { hostId: to, instanceId: row.id, previousCurrent: previous });
        await op.run(h.define, { hostId: to, instanceId: row.id }, requests.build(identityOf(row), shapeOf(row, files)));
        // An instance its administrator had stopped comes back defined, not started.
        if (run) await op.run(h.start, { hostId: to, instanceId: row.id });
        await op.finish(steps.switchHost, { instanceId: row.id, from, to });
      },
    );
    const now = await store.get(row.id);
    if (now) await instances.setState(now, run ? 'running' : 'stopped', { error: null });
    bus.publish('instance.recovered', { id: row.id, name: row.name, from, to, checkpoint: replica.checkpoint_id });
  }

  /** Undone: the instance stays `unknown` on the dead host, its replica as it was, with why. */
  private async reverted(op: OperationRecord, outcome: RevertOutcome): Promise<void> {
    if (!op.instanceId) return;
    await this.opts.store.setState(op.instanceId, 'unknown', {
      error: `restart from its replica failed: ${outcome.reason}${outcome.complete ? '' : ` (undo stopped at ${outcome.problems.join('; ')})`}`,
    });
  }
}

/** A host that has none of the instance's files answers 404: nothing to compare with. */
function notFoundAsNone(err: unknown): { files: { path: string; sha256: string }[] } {
  if (hostCode(err) === 'STORMD_ERR_INSTANCE_NOT_FOUND') return { files: [] };
  throw err;
}
