/**
 * Instances come back: after stormd or the whole host restarted, a heartbeat shows a domain shut off
 * (or gone, its layers kept) whose instance's desired state is `running`; the manager starts it
 * again (defining it first from the record's stack when it is gone), through a journaled `comeback`
 * operation, so a crash midway is finished or undone by reconcile like any other. The manager's
 * desired state decides, not libvirt's autostart: an instance the administrator stopped has
 * `desired = stopped` and stays stopped. A start that fails is tried again on later heartbeats,
 * waiting longer each time; one whose undo failed too (the host went away) is repaired by the next
 * heartbeat. Each comeback is an `instance.restarted` event.
 *
 * @example
 * const comebacks = new Comebacks({ store, hosts, journal, bus, hostSteps, instanceSteps, requests, quiet });
 * comebacks.heard(hostId, heartbeat.instances, receivedAt); // starts in the background
 */
import type { InstanceStatus } from '../../../stormd/protocol.js';
import { errorMessage } from '../../../common/errors.js';
import type { EventBus } from '../events/bus.js';
import type { HostRegistry } from '../hosts/host-registry.js';
import type { Journal, Operation } from '../operations/journal.js';
import type { OperationRecord } from '../operations/journal-store.js';
import { type Comeback, comebackFor } from './comeback-decision.js';
import { type DomainRequests, identityOf, shapeOf } from './domain-request.js';
import type { HostSteps } from './host-steps.js';
import type { InstanceSteps } from './instance-steps.js';
import type { InstanceBrief, InstanceRow, InstanceStore } from './instance-store.js';

export interface ComebackOptions {
  readonly store: InstanceStore;
  readonly hosts: HostRegistry;
  readonly journal: Journal;
  readonly bus: EventBus;
  readonly hostSteps: HostSteps;
  readonly instanceSteps: InstanceSteps;
  readonly requests: DomainRequests;
  /** True when no action or operation of the instance ran since `receivedAt`: the heartbeat speaks for it. */
  quiet(instanceId: string, receivedAt: number): boolean;
  /** The first wait after a failed comeback (doubled each time, at most ten minutes). */
  readonly retryMs?: number;
  readonly now?: () => number;
}

const MAX_RETRY_MS = 600_000;

export class Comebacks {
  private readonly running = new Map<string, Promise<void>>();
  /** After a failed comeback: how many in a row, and not before when to try again. */
  private readonly failures = new Map<string, { count: number; retryAt: number }>();
  private readonly now: () => number;

  constructor(private readonly opts: ComebackOptions) {
    const { journal, hostSteps: h, instanceSteps: i } = opts;
    this.now = opts.now ?? Date.now;
    journal.define(h.define, h.start, i.running);
    journal.defineKind({ name: 'comeback', resume: (op, handle) => this.resume(op, handle) });
  }

  /**
   * A heartbeat's states: instances to bring back start in the background (the heartbeat's answer
   * does not wait). `rows`: the host's rows as the heartbeat just left them (read here when absent).
   */
  heard(hostId: string, statuses: readonly InstanceStatus[], receivedAt: number, rows?: readonly InstanceBrief[]): void {
    void this.check(hostId, statuses, receivedAt, rows).catch(() => undefined);
  }

  /** Starts the comebacks this heartbeat calls for and resolves when they ended. */
  async check(hostId: string, statuses: readonly InstanceStatus[], receivedAt: number, rows?: readonly InstanceBrief[]): Promise<void> {
    // A host declared dead brings nothing back: its domains are stale (hosts/host-fencing.ts removes them).
    if ((await this.opts.hosts.store.get(hostId))?.dead_at) return;
    const byId = new Map(statuses.map((s) => [s.id, s]));
    const started: Promise<void>[] = [];
    // Each comeback reads its row again inside its operation: the brief is enough to decide.
    for (const row of rows ?? (await this.opts.store.briefsByHost(hostId))) {
      const status = byId.get(row.id);
      if (status?.state === 'running') this.failures.delete(row.id);
      const how = comebackFor(row, status);
      if (!how || this.running.has(row.id) || !(await this.free(row.id, receivedAt))) continue;
      const p = this.bringBack(row, hostId, how).finally(() => this.running.delete(row.id));
      this.running.set(row.id, p);
      started.push(p);
    }
    await Promise.all(started);
  }

  /** Resolves when every comeback under way ended. */
  async idle(): Promise<void> {
    await Promise.all(this.running.values());
  }

  /** Nothing else acts on it (an action, an operation, one a crash left open) and no failure asks to wait. */
  private async free(id: string, receivedAt: number): Promise<boolean> {
    const { journal } = this.opts;
    const failed = this.failures.get(id);
    if (failed && this.now() < failed.retryAt) return false;
    if (!this.opts.quiet(id, receivedAt)) return false;
    const open = await journal.openFor(id);
    if (open.length === 0) return true;
    // A comeback a crash or a failed undo (its host down) left open: the host answers again, so it is repaired now, not at the next reconcile; the next heartbeat decides.
    for (const op of open) {
      if (op.kind !== 'comeback' || journal.isActive(id)) return false;
      await journal.recover(op).catch(() => 'stuck');
    }
    return false;
  }

  private async bringBack(seen: InstanceBrief, hostId: string, how: Comeback): Promise<void> {
    const { journal, store, bus } = this.opts;
    try {
      const done = await journal.perform(
        { kind: 'comeback', instanceId: seen.id, hostId, subject: { name: seen.name, how } },
        async (op) => {
          // Read again inside the operation: stopped or moved meanwhile, it is not this heartbeat's to start.
          const row = await store.get(seen.id);
          if (!row || row.host_id !== hostId) return false;
          // Ask the host again: the heartbeat's states were read before it arrived, perhaps before a launch started this guest (a start of a running guest fails, and its undo would force it off).
          const now = await (await this.opts.hosts.client(hostId)).instance(row.id).catch(() => undefined);
          if (comebackFor(row, now) !== how) return false;
          await this.steps(op, row, hostId, how);
          return true;
        },
      );
      if (!done) return;
      this.failures.delete(seen.id);
      const host = await this.opts.hosts.store.get(hostId);
      bus.publish('instance.state', { id: seen.id, name: seen.name, state: 'running', from: seen.state });
      bus.publish('instance.restarted', {
        id: seen.id,
        name: seen.name,
        host: host?.name ?? hostId,
        reason: how === 'start' ? 'its domain was shut off' : 'its domain was gone; defined again from its stack',
      });
    } catch (err) {
      const count = (this.failures.get(seen.id)?.count ?? 0) + 1;
      const waitMs = Math.min((this.opts.retryMs ?? 10_000) * 2 ** (count - 1), MAX_RETRY_MS);
      this.failures.set(seen.id, { count, retryAt: this.now() + waitMs });
      const error = `comeback: ${errorMessage(err)}`;
      await store.setState(seen.id, (await store.get(seen.id))?.state ?? seen.state, { error }).catch(() => undefined);
      bus.publish('instance.restart-failed', { id: seen.id, name: seen.name, error, retryInSeconds: Math.round(waitMs / 1000) });
    }
  }

  private async steps(op: Operation, row: InstanceRow, hostId: string, how: Comeback): Promise<void> {
    const { hostSteps: h, instanceSteps: i, requests, store } = this.opts;
    const on = { hostId, instanceId: row.id };
    if (how === 'define') await op.run(h.define, on, requests.build(identityOf(row), shapeOf(row, await store.files(row.id))));
    await op.run(h.start, on);
    await op.finish(i.running, { instanceId: row.id });
  }

  /** Reconcile: a comeback a crash cut short is finished when its guest runs, else undone (the next heartbeat tries again). */
  private async resume(op: OperationRecord, handle: Operation): Promise<boolean> {
    if (!op.instanceId || !op.hostId) return false;
    const status = await (await this.opts.hosts.client(op.hostId)).instance(op.instanceId).catch(() => undefined);
    if (status?.state !== 'running') return false;
    await handle.finish(this.opts.instanceSteps.running, { instanceId: op.instanceId });
    return true;
  }
}
