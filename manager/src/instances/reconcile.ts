/**
 * Reconcile, at start and periodically: compare every reachable host's instances with the database
 * and repair the drift. An interrupted launch is finished when the guest already runs, else undone;
 * an interrupted destroy is finished; a domain with no record (an orphan) is removed; a record whose
 * domain vanished is kept and marked `lost`, never dropped silently. Each repair is an event.
 *
 * @example
 * const report = await reconciler.run();
 * reconciler.start(60_000);
 */
import type { InstanceStatus } from '../../../stormd/protocol.js';
import { errorMessage } from '../../../common/errors.js';
import { MgrErr } from '../errors.js';
import type { EventBus } from '../events/bus.js';
import type { HostRegistry } from '../hosts/host-registry.js';
import { stateFromHost } from './host-states.js';
import type { InstanceService } from './instance-service.js';
import type { InstanceRow, InstanceStore } from './instance-store.js';

export interface ReconcileReport {
  readonly hostsChecked: string[];
  readonly hostsUnreachable: string[];
  readonly launchesFinished: string[];
  readonly launchesUndone: string[];
  readonly destroysFinished: string[];
  readonly orphansRemoved: string[];
  readonly lost: string[];
  readonly errors: string[];
}

export interface ReconcilerOptions {
  readonly store: InstanceStore;
  readonly hosts: HostRegistry;
  readonly instances: InstanceService;
  readonly bus: EventBus;
  /** True for launches this process is running (they are not interrupted). */
  readonly isLaunching: (id: string) => boolean;
  /** True for lifecycle operations this process is running. */
  readonly isOperating?: (id: string) => boolean;
  /** Undoes a lifecycle operation a crash interrupted (the row's `operation` is set); true when it did. */
  readonly recoverOperation?: (row: InstanceRow) => Promise<boolean>;
}

export class Reconciler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<ReconcileReport> | undefined;

  constructor(private readonly opts: ReconcilerOptions) {}

  /** One pass; concurrent callers share it. */
  run(): Promise<ReconcileReport> {
    this.running ??= this.pass().finally(() => (this.running = undefined));
    return this.running;
  }

  start(intervalMs: number): void {
    if (this.timer || intervalMs <= 0) return;
    this.timer = setInterval(() => void this.run().catch(() => undefined), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  async idle(): Promise<void> {
    await this.running?.catch(() => undefined);
  }

  private async pass(): Promise<ReconcileReport> {
    const report: ReconcileReport = { hostsChecked: [], hostsUnreachable: [], launchesFinished: [], launchesUndone: [], destroysFinished: [], orphansRemoved: [], lost: [], errors: [] };
    const { hosts, store, instances, bus } = this.opts;
    for (const host of await hosts.store.list()) {
      if (host.status === 'revoked') continue;
      let statuses: InstanceStatus[];
      // Records changed after this were changed after the host answered: its answer cannot speak for them.
      const asked = new Date().toISOString();
      try {
        statuses = await (await hosts.client(host.id)).instances();
      } catch (err) {
        await instances.markUnknown([host.id]);
        // A host that answers with an error (its libvirt down, say) is not unreachable: its heartbeat says what it is.
        if (!MgrErr.MGR_ERR_HOST_UNREACHABLE.is(err)) {
          report.errors.push(`${host.name}: ${errorMessage(err)}`);
          continue;
        }
        report.hostsUnreachable.push(host.name);
        if (host.status === 'ready') await hosts.store.setStatus(host.id, 'unreachable', errorMessage(err));
        continue;
      }
      report.hostsChecked.push(host.name);
      const client = await hosts.client(host.id);
      const onHost = new Map(statuses.map((s) => [s.id, s]));
      const rows = await store.byHost(host.id);
      for (const listed of rows) {
        // Read again: a launch may have finished, and left the process's active set, since `rows` was read.
        const row = await store.get(listed.id);
        if (!row || row.updated_at >= asked) continue;
        try {
          await this.repair(row, onHost.get(row.id), () => client.removeInstance(row.id), report);
        } catch (err) {
          report.errors.push(`${row.name}: ${errorMessage(err)}`);
        }
      }
      const known = new Set((await store.list()).map((r) => r.id));
      for (const s of statuses) {
        if (known.has(s.id) || this.opts.isLaunching(s.id) || this.opts.isOperating?.(s.id)) continue;
        try {
          await client.removeInstance(s.id);
          report.orphansRemoved.push(`${host.name}/${s.id}`);
          bus.publish('reconcile.orphan-removed', { host: host.name, instance: s.id, domain: s.domain, state: s.state });
        } catch (err) {
          report.errors.push(`orphan ${host.name}/${s.id}: ${errorMessage(err)}`);
        }
      }
    }
    bus.publish('reconcile.done', { ...report });
    return report;
  }

  private async repair(row: InstanceRow, s: InstanceStatus | undefined, removeOnHost: () => Promise<void>, report: ReconcileReport): Promise<void> {
    const { instances, bus } = this.opts;
    const present = s !== undefined && s.state !== 'absent';
    if (this.opts.isOperating?.(row.id)) return;
    if (row.operation && this.opts.recoverOperation) {
      if (await this.opts.recoverOperation(row)) {
        bus.publish('reconcile.operation-undone', { id: row.id, name: row.name, operation: row.operation });
        return;
      }
    }
    switch (row.state) {
      case 'launching': {
        if (this.opts.isLaunching(row.id)) return;
        if (present && s.state === 'running' && s.hasLayer) {
          // It got as far as a running guest: finish the launch rather than kill what runs.
          await this.opts.store.setStep(row.id, null);
          await instances.setState(row, 'running', { error: null });
          report.launchesFinished.push(row.name);
          bus.publish('reconcile.launch-finished', { id: row.id, name: row.name });
        } else {
          await removeOnHost();
          await instances.forget(row);
          report.launchesUndone.push(row.name);
          bus.publish('reconcile.launch-undone', { id: row.id, name: row.name, step: row.launch_step });
        }
        return;
      }
      case 'destroying':
      case 'failed':
        await removeOnHost();
        await instances.forget(row);
        report.destroysFinished.push(row.name);
        return;
      default:
        if (!present) {
          if (row.state !== 'lost') {
            report.lost.push(row.name);
            bus.publish('reconcile.lost', { id: row.id, name: row.name, error: 'the host has no such domain' });
          }
          await instances.setState(row, 'lost', { error: 'the host has no domain for this instance' });
        } else {
          await instances.setState(row, stateFromHost(s));
        }
    }
  }
}
