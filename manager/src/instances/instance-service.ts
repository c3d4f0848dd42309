/**
 * Instances after launch: list and show, start / stop / reboot, destroy, console tail; state kept
 * in step with the hosts' heartbeats (an unreachable host makes its instances `unknown`, never
 * deleted). Every change goes out as an `instance.state` event. Destroy is a journaled operation
 * that only goes forward: the host's instance, then what the rest of the manager gave it (the
 * `cleanup` steps: principals, directory account, lease), then the record; a failure or a crash
 * leaves it open (`destroying`), and reconcile finishes it.
 *
 * @example
 * await instances.act('web1', 'stop');
 * await instances.destroy('web1');
 */
import type { PageQuery } from '../../protocol/index.js';
import type { InstanceAction, InstanceStatus } from '../../../stormd/protocol.js';
import { errorMessage } from '../../../common/errors.js';
import { MgrErr } from '../errors.js';
import type { EventBus } from '../events/bus.js';
import type { HostRegistry } from '../hosts/host-registry.js';
import { ActionFence } from './action-fence.js';
import type { Journal, Operation } from '../operations/journal.js';
import type { OperationRecord } from '../operations/journal-store.js';
import type { Step } from '../operations/step.js';
import { MOVE_KINDS, stateFromHost, TRANSITIONAL } from './host-states.js';
import type { HostSteps } from './host-steps.js';
import type { InstanceSteps } from './instance-steps.js';
import type { InstanceBrief, InstanceRow, InstanceState, InstanceStore } from './instance-store.js';
import { instanceView, type InstanceView } from './instance-view.js';
import { readPage } from './instance-page.js';

/** What destroy's `cleanup` steps are told of the instance that goes. */
export interface RemovedInstance {
  readonly instanceId: string;
  readonly name: string;
  readonly mac: string;
}

export interface InstanceServiceOptions {
  readonly store: InstanceStore;
  readonly hosts: HostRegistry;
  readonly bus: EventBus;
  /** The DNS zone instances are named in, for `fqdn` (null until network services run). */
  readonly domain: () => string | null;
  readonly journal: Journal;
  readonly instanceSteps: InstanceSteps;
  readonly hostSteps: HostSteps;
  /** What else goes with an instance, after the host's part and before the record (forward-only steps). */
  readonly cleanup: readonly Step<RemovedInstance>[];
  readonly stopTimeoutMs?: number;
}

export class InstanceService {
  /** Heartbeats that left the host before an action's answer must not overwrite it. */
  private readonly fence = new ActionFence();

  constructor(private readonly opts: InstanceServiceOptions) {
    const { journal, instanceSteps: i, hostSteps: h, cleanup } = opts;
    journal.define(i.destroying, i.forget, h.removeInstance, ...cleanup);
    journal.defineKind({ name: 'destroy', forwardOnly: true, resume: (op, handle) => this.resumeDestroy(op, handle) });
  }

  async find(idOrName: string): Promise<InstanceRow> {
    const row = (await this.opts.store.get(idOrName)) ?? (await this.opts.store.byName(idOrName));
    if (!row) throw MgrErr.MGR_ERR_NOT_FOUND(`instance ${idOrName}`);
    return row;
  }

  async view(row: InstanceRow): Promise<InstanceView> {
    const host = row.host_id ? await this.opts.hosts.store.get(row.host_id) : undefined;
    return instanceView(row, await this.opts.store.files(row.id), host ? { id: host.id, name: host.name } : null, this.opts.domain());
  }

  /** One page (instance-page.ts) as views: three queries whatever the count (rows, files, hosts). */
  async list(page: PageQuery = {}): Promise<{ instances: InstanceView[]; next?: string }> {
    const { rows, next } = await readPage(this.opts.store, page);
    const [files, hosts] = [await this.opts.store.allFiles(rows.map((r) => r.id)), await this.opts.hosts.store.list()];
    const hostById = new Map(hosts.map((h) => [h.id, { id: h.id, name: h.name }]));
    const domain = this.opts.domain();
    const instances = rows.map((r) => instanceView(r, files.get(r.id) ?? [], (r.host_id && hostById.get(r.host_id)) || null, domain));
    return next ? { instances, next } : { instances };
  }

  /** Every instance's name (one column, not the views a page serializes). */
  names(): Promise<string[]> {
    return this.opts.store.names();
  }

  async get(idOrName: string): Promise<InstanceView> {
    return this.view(await this.find(idOrName));
  }

  async setState(
    row: Pick<InstanceRow, 'id' | 'name' | 'state'>,
    state: InstanceState,
    extra: { desired?: 'running' | 'stopped'; error?: string | null } = {},
  ): Promise<void> {
    if (await this.opts.store.setState(row.id, state, extra))
      this.opts.bus.publish('instance.state', { id: row.id, name: row.name, state, from: row.state });
  }

  /**
   * States a host's view calls for, in one transaction; each only while the instance is still quiet
   * since `since` when given (checked again here, after the reads that led to it) and still in the
   * state it was compared in. Each change is an event. The ids whose state changed.
   */
  async applyStates(changes: readonly { row: InstanceBrief; state: InstanceState }[], since?: number): Promise<Set<string>> {
    const due = since === undefined ? changes : changes.filter((c) => this.quiet(c.row.id, since));
    const changed = await this.opts.store.setStates(due.map((c) => ({ id: c.row.id, from: c.row.state, state: c.state })));
    for (const { row, state } of due)
      if (changed.has(row.id)) this.opts.bus.publish('instance.state', { id: row.id, name: row.name, state, from: row.state });
    return changed;
  }

  async act(idOrName: string, action: Exclude<InstanceAction, 'destroy'>): Promise<InstanceView> {
    const row = await this.find(idOrName);
    if (TRANSITIONAL.has(row.state)) throw MgrErr.MGR_ERR_CONFLICT(`instance ${row.name} is ${row.state}`);
    if (!row.host_id) throw MgrErr.MGR_ERR_CONFLICT(`instance ${row.name} has no host`);
    // A dead host's domains are stale: starting one would run the instance twice if it was recovered elsewhere.
    const host = await this.opts.hosts.store.get(row.host_id);
    if (host?.dead_at) throw MgrErr.MGR_ERR_CONFLICT(`instance ${row.name} is on host ${host.name}, which was declared dead`);
    // A comeback (or another operation) starting it right now would undo this action's answer.
    if (this.opts.journal.isActive(row.id))
      throw MgrErr.MGR_ERR_CONFLICT(`instance ${row.name} is in the middle of another operation; try again when it ends`);
    const client = await this.opts.hosts.client(row.host_id);
    const desired = action === 'stop' ? 'stopped' : 'running';
    await this.fence.around(row.id, async () => {
      try {
        const r = await client.action(row.id, { action, timeoutMs: this.opts.stopTimeoutMs ?? 30_000 });
        await this.setState(row, stateFromHost({ id: row.id, domain: '', state: r.state, hasLayer: true, layerBytes: 0 }), {
          desired,
          error: null,
        });
      } catch (err) {
        await this.opts.store.setState(row.id, row.state, { error: `${action}: ${errorMessage(err)}` });
        throw err;
      }
    });
    return this.get(row.id);
  }

  /** Removes the domain and instance layer on the host, what else the instance held, then the record. */
  async destroy(idOrName: string): Promise<void> {
    const row = await this.find(idOrName);
    if (row.state === 'launching') throw MgrErr.MGR_ERR_CONFLICT(`instance ${row.name} is still launching`);
    if (this.opts.journal.isActive(row.id)) throw MgrErr.MGR_ERR_CONFLICT(`instance ${row.name} is in the middle of another operation`);
    // An operation a crash or a failed undo left open would act on what destroy removes: it ends here.
    await this.opts.journal.supersede(row.id);
    try {
      await this.opts.journal.perform(
        { kind: 'destroy', instanceId: row.id, hostId: row.host_id, subject: { name: row.name, mac: row.mac } },
        (op) => this.runDestroy(op, row),
      );
    } catch (err) {
      // The record stays in `destroying`; reconcile finishes the job when the host answers again.
      await this.opts.store.setState(row.id, 'destroying', { error: `destroy: ${errorMessage(err)}` });
      throw err;
    }
  }

  private async runDestroy(op: Operation, row: InstanceRow): Promise<void> {
    const { instanceSteps: i, hostSteps: h, bus } = this.opts;
    const latest = (await this.opts.store.get(row.id)) ?? row;
    if (latest.state !== 'destroying') {
      await op.commit(i.destroying, { instanceId: row.id });
      bus.publish('instance.state', { id: row.id, name: row.name, state: 'destroying', from: latest.state });
    }
    if (row.host_id) await op.run(h.removeInstance, { hostId: row.host_id, instanceId: row.id });
    for (const step of this.opts.cleanup) await op.run(step, { instanceId: row.id, name: row.name, mac: row.mac });
    await op.finish(i.forget, { instanceId: row.id });
    this.fence.forget(row.id);
    bus.publish('instance.state', { id: row.id, name: row.name, state: 'destroyed', from: latest.state });
  }

  /** Reconcile: a destroy a failure or a crash left open is taken again from the start (each step repeats safely). */
  private async resumeDestroy(op: OperationRecord, handle: Operation): Promise<boolean> {
    const row = op.instanceId ? await this.opts.store.get(op.instanceId) : undefined;
    if (row) await this.runDestroy(handle, row);
    return true;
  }

  async serial(idOrName: string, bytes?: number): Promise<{ text: string; size: number; offset: number }> {
    const row = await this.find(idOrName);
    if (!row.host_id) throw MgrErr.MGR_ERR_CONFLICT(`instance ${row.name} has no host`);
    return (await this.opts.hosts.client(row.host_id)).serial(row.id, bytes);
  }

  /** The host's WebSocket onto a running instance's serial port (`SerialSessions` shares it). */
  async attachSerial(idOrName: string): Promise<import('ws').WebSocket> {
    const row = await this.find(idOrName);
    if (!row.host_id) throw MgrErr.MGR_ERR_CONFLICT(`instance ${row.name} has no host`);
    return (await this.opts.hosts.client(row.host_id)).attachSerial(row.id);
  }

  /**
   * A heartbeat's view of a host's instances: settled states follow the host. One narrow read of the
   * host's rows and one transaction for what changed, whatever the count. The rows as they are now.
   */
  async syncFromHost(hostId: string, statuses: readonly InstanceStatus[], receivedAt = Date.now()): Promise<InstanceBrief[]> {
    const byId = new Map(statuses.map((s) => [s.id, s]));
    const rows = await this.opts.store.briefsByHost(hostId);
    const changes: { row: InstanceBrief; state: InstanceState }[] = [];
    for (const row of rows) {
      // An action or an operation that ran since the host read its states has the last word.
      if (TRANSITIONAL.has(row.state) || !this.quiet(row.id, receivedAt)) continue;
      const state = stateFromHost(byId.get(row.id));
      // A heartbeat mostly repeats what the row just read says: nothing more to do then.
      if (state !== row.state && !(await this.moving(row.id))) changes.push({ row, state });
    }
    const changed = await this.applyStates(changes, receivedAt);
    const now = new Map(changes.filter((c) => changed.has(c.row.id)).map((c) => [c.row.id, c.state]));
    return now.size === 0 ? rows : rows.map((r) => (now.has(r.id) ? { ...r, state: now.get(r.id)! } : r));
  }

  /** True while a move of the instance is open (interrupted too): its domains pause and vanish on the hosts as the move goes, which is no drift. */
  private async moving(id: string): Promise<boolean> {
    return (await this.opts.journal.openFor(id)).some((op) => MOVE_KINDS.has(op.kind));
  }

  /** True when no action or operation of the instance ran here at or after `receivedAt`: a heartbeat then speaks for it. */
  quiet(id: string, receivedAt: number): boolean {
    return this.fence.admits(id, receivedAt) && this.opts.journal.quietSince(id, receivedAt);
  }

  /** Hosts went silent: their instances' states are unknown (the records stay); one transaction a host. */
  async markUnknown(hostIds: readonly string[]): Promise<void> {
    for (const hostId of hostIds) {
      const rows = await this.opts.store.briefsByHost(hostId);
      const changes = rows
        .filter((r) => !TRANSITIONAL.has(r.state) && r.state !== 'unknown')
        .map((row) => ({ row, state: 'unknown' as const }));
      await this.applyStates(changes);
    }
  }
}
