/**
 * Reconcile, at start and periodically: compare every reachable host's instances with the database
 * and repair the drift. First the journal: every operation a crash (or an undo that failed) left
 * open is resumed or undone from its recorded steps, whatever its kind, through the journal's one
 * path (`Journal.recover`). Then the records: a record whose domain vanished is kept and marked
 * `lost`, never dropped silently; others follow their host. Last, a domain that neither a record
 * nor an open operation knows (an orphan) is removed. Each repair is an event.
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
import type { Journal } from '../operations/journal.js';
import type { OperationRecord } from '../operations/journal-store.js';
import { stateFromHost, TRANSITIONAL } from './host-states.js';
import type { InstanceService } from './instance-service.js';
import type { InstanceBrief, InstanceState, InstanceStore } from './instance-store.js';

export interface ReconcileReport {
  readonly hostsChecked: string[];
  readonly hostsUnreachable: string[];
  readonly launchesFinished: string[];
  readonly launchesUndone: string[];
  readonly destroysFinished: string[];
  /** Lifecycle operations (checkpoint, rollback, upgrade, …) a crash interrupted, undone: `name: kind`. */
  readonly operationsUndone: string[];
  readonly orphansRemoved: string[];
  /** Domains of a host declared dead that answered again, removed (`host/instance`): never started, never synced. */
  readonly staleRemoved: string[];
  readonly lost: string[];
  readonly errors: string[];
}

export interface ReconcilerOptions {
  readonly store: InstanceStore;
  readonly hosts: HostRegistry;
  readonly instances: InstanceService;
  readonly journal: Journal;
  readonly bus: EventBus;
  /** Removes a dead host's stale domains (hosts/host-fencing.ts); a dead host is otherwise left alone here. */
  readonly removeStale?: (hostId: string) => Promise<string[]>;
}

const LOST_ERROR = 'the host has no domain for this instance';

/** Closed operations are kept this long for reading, then pruned. */
const JOURNAL_DAYS = 30;

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
    const report: ReconcileReport = {
      hostsChecked: [],
      hostsUnreachable: [],
      launchesFinished: [],
      launchesUndone: [],
      destroysFinished: [],
      operationsUndone: [],
      orphansRemoved: [],
      staleRemoved: [],
      lost: [],
      errors: [],
    };
    const { hosts, store, instances, journal, bus } = this.opts;
    const reachable = new Set<string>();
    const hostList = (await hosts.store.list()).filter((h) => h.status !== 'revoked');
    // Records changed after this were changed after the hosts answered: their answers cannot speak for them.
    let askedAt = Date.now();
    // Every host asked at once: a pass over a hundred hosts waits for the slowest, not for their sum.
    const answers = await Promise.all(
      hostList.map(async (host): Promise<{ statuses: InstanceStatus[] } | { statuses?: undefined; err: unknown }> => {
        try {
          return { statuses: await (await hosts.client(host.id)).instances() };
        } catch (err) {
          return { err };
        }
      }),
    );
    const answered = new Map<string, InstanceStatus[]>();
    for (const [i, host] of hostList.entries()) {
      const answer = answers[i]!;
      if (answer.statuses) {
        reachable.add(host.id);
        answered.set(host.id, answer.statuses);
        continue;
      }
      const { err } = answer;
      // A dead host's instances were settled when it was declared dead (lost): its silence changes nothing.
      if (!host.dead_at) await instances.markUnknown([host.id]);
      // A host that answers with an error (its libvirt down, say) is not unreachable: its heartbeat says what it is.
      if (!MgrErr.MGR_ERR_HOST_UNREACHABLE.is(err)) {
        report.errors.push(`${host.name}: ${errorMessage(err)}`);
        continue;
      }
      report.hostsUnreachable.push(host.name);
      if (host.status === 'ready') await hosts.store.setStatus(host.id, 'unreachable', errorMessage(err));
    }

    // The journal first: what it knows of, it decides (an interrupted launch is undone from its steps).
    let recovered = false;
    for (const op of await journal.interrupted()) {
      if (op.hostId && !reachable.has(op.hostId)) continue; // its host answers later
      await this.recover(op, report);
      recovered = true;
    }
    // A recovery changes domains (an undone launch removes its own): the hosts are asked again, after it.
    if (recovered) {
      askedAt = Date.now();
      answered.clear();
    }
    const asked = new Date(askedAt).toISOString();
    // Instances an open operation holds (running here, or stuck in an undo) are the journal's: read once a pass, after the hosts answered.
    const held = await journal.store.openInstanceIds();

    for (const host of hostList) {
      if (!reachable.has(host.id)) continue;
      report.hostsChecked.push(host.name);
      // Host declared dead that answers again: its domains are stale, removed, never synced to the records (docs/hosts.md).
      if (host.dead_at) {
        try {
          report.staleRemoved.push(...((await this.opts.removeStale?.(host.id)) ?? []));
        } catch (err) {
          report.errors.push(`stale domains of ${host.name}: ${errorMessage(err)}`);
        }
        continue;
      }
      const client = await hosts.client(host.id);
      let statuses: InstanceStatus[];
      try {
        statuses = answered.get(host.id) ?? (await client.instances());
      } catch (err) {
        report.errors.push(`${host.name}: ${errorMessage(err)}`);
        continue;
      }
      const onHost = new Map(statuses.map((s) => [s.id, s]));
      // One narrow read of the host's rows, after `held`; an operation that started or ended since the host
      // answered (the journal knows in memory), or a row changed since, is the next pass's.
      const rows = await store.briefsByHost(host.id);
      const changes: { row: InstanceBrief; state: InstanceState }[] = [];
      for (const row of rows) {
        if (held.has(row.id) || row.updated_at >= asked || !instances.quiet(row.id, askedAt)) continue;
        try {
          const s = onHost.get(row.id);
          if (TRANSITIONAL.has(row.state)) {
            report.errors.push(`${row.name} is ${row.state} and no operation in the journal holds it`);
          } else if (s === undefined || s.state === 'absent') {
            if (row.state !== 'lost') {
              report.lost.push(row.name);
              bus.publish('reconcile.lost', { id: row.id, name: row.name, error: 'the host has no such domain' });
            }
            if (row.state !== 'lost' || row.last_error !== LOST_ERROR) await instances.setState(row, 'lost', { error: LOST_ERROR });
          } else {
            // Compared in memory: most rows already say what the host does, and cost no further query.
            const state = stateFromHost(s);
            if (state !== row.state) changes.push({ row, state });
          }
        } catch (err) {
          report.errors.push(`${row.name}: ${errorMessage(err)}`);
        }
      }
      // What differs, written in one transaction (a commit per row was a commit per drifted instance).
      try {
        await instances.applyStates(changes, askedAt);
      } catch (err) {
        report.errors.push(`${host.name}: states: ${errorMessage(err)}`);
      }
      // Only domains the host's own rows do not name are looked up (most often none: no query).
      const mine = new Set(rows.map((r) => r.id));
      const known = await store.known(statuses.flatMap((s) => (mine.has(s.id) ? [] : [s.id])));
      for (const s of statuses) {
        if (mine.has(s.id) || known.has(s.id) || held.has(s.id)) continue;
        try {
          await client.removeInstance(s.id);
          report.orphansRemoved.push(`${host.name}/${s.id}`);
          bus.publish('reconcile.orphan-removed', { host: host.name, instance: s.id, domain: s.domain, state: s.state });
        } catch (err) {
          report.errors.push(`orphan ${host.name}/${s.id}: ${errorMessage(err)}`);
        }
      }
    }
    await journal.store.prune(JOURNAL_DAYS).catch(() => undefined);
    bus.publish('reconcile.done', { ...report });
    return report;
  }

  /** One interrupted operation, through the journal's one path; the report and the events say what became of it. */
  private async recover(op: OperationRecord, report: ReconcileReport): Promise<void> {
    const { bus, journal } = this.opts;
    const name = typeof op.subject['name'] === 'string' ? op.subject['name'] : (op.instanceId ?? op.id);
    const last = op.steps.at(-1)?.name ?? null;
    try {
      const outcome = await journal.recover(op);
      if (outcome === 'closed') return;
      if (outcome === 'stuck') {
        const failed = (await journal.store.get(op.id))?.steps.find((s) => s.error)?.error;
        report.errors.push(
          `${name}: the interrupted ${op.kind} could not be ${op.state === 'running' && op.kind === 'destroy' ? 'finished' : 'undone'}${failed ? `: ${failed}` : ''}`,
        );
      } else if (op.kind === 'launch') {
        (outcome === 'finished' ? report.launchesFinished : report.launchesUndone).push(name);
        bus.publish(outcome === 'finished' ? 'reconcile.launch-finished' : 'reconcile.launch-undone', {
          id: op.instanceId,
          name,
          step: last,
        });
      } else if (op.kind === 'destroy') {
        report.destroysFinished.push(name);
      } else {
        report.operationsUndone.push(`${name}: ${op.kind}`);
        bus.publish(outcome === 'finished' ? 'reconcile.operation-finished' : 'reconcile.operation-undone', {
          id: op.instanceId,
          name,
          operation: op.kind,
          step: last,
        });
      }
    } catch (err) {
      report.errors.push(`${name}: the interrupted ${op.kind}: ${errorMessage(err)}`);
    }
  }
}
