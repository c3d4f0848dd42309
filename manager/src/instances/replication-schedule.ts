/**
 * Replication's checkpoint interval (`storm replicate NAME --to HOST --every 1h`, `storm launch …
 * --replicate HOST --replicate-every 1h`): each second the manager looks at the replicas that have
 * one and checkpoints each running instance whose last checkpoint (before any, the replica's start)
 * is older than its interval; the copy to the replica host follows as after any checkpoint. A
 * layered checkpoint freezes the writable layer, which restarts the guest (docs/lifecycle.md): the
 * interval bounds what a restart from the replica loses, at the price of a guest restart each time.
 * One checkpoint at a time; one that fails is tried again an interval later, and its error shows on
 * the replica.
 *
 * @example
 * const schedule = new ReplicaSchedule({ replicas, store, lifecycle });
 * schedule.start(); // … schedule.stop(); await schedule.idle();
 */
import { errorMessage } from '../../../common/errors.js';
import { intervalText } from '../../../common/replica-interval.js';
import type { InstanceStore } from './instance-store.js';
import type { ReplicaStore } from './replication-store.js';

export interface ReplicaScheduleOptions {
  readonly replicas: ReplicaStore;
  readonly store: InstanceStore;
  readonly lifecycle: {
    run(idOrName: string, action: { action: 'checkpoint'; label?: string }): Promise<unknown>;
    isActive(instanceId: string): boolean;
  };
  readonly now?: () => number;
}

export class ReplicaSchedule {
  private timer: NodeJS.Timeout | undefined;
  private pass: Promise<string[]> | undefined;
  /** When a checkpoint was last tried per instance: a failed one waits an interval too. */
  private readonly tried = new Map<string, number>();
  private readonly now: () => number;

  constructor(private readonly opts: ReplicaScheduleOptions) {
    this.now = opts.now ?? Date.now;
  }

  start(everyMs = 1000): void {
    this.timer ??= setInterval(() => void this.tick(), everyMs);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  async idle(): Promise<void> {
    await this.pass;
  }

  /** One look (a pass already under way is not doubled): the ids of the instances checkpointed. */
  tick(): Promise<string[]> {
    this.pass ??= this.due().finally(() => {
      this.pass = undefined;
    });
    return this.pass;
  }

  private async due(): Promise<string[]> {
    const { replicas, store, lifecycle } = this.opts;
    const done: string[] = [];
    for (const r of await replicas.scheduled()) {
      if (r.every_s === null) continue;
      const since = Math.max(Date.parse(r.last_checkpoint ?? r.created_at), this.tried.get(r.instance_id) ?? 0);
      if (this.now() - since < r.every_s * 1000) continue;
      const row = await store.get(r.instance_id);
      // Only a running guest changes; one mid-operation is checkpointed by that operation or at the next look.
      if (!row || row.state !== 'running' || !row.host_id || row.host_id === r.host_id || lifecycle.isActive(row.id)) continue;
      this.tried.set(row.id, this.now());
      try {
        await lifecycle.run(row.id, { action: 'checkpoint', label: `replication, every ${intervalText(r.every_s)}` });
        done.push(row.id);
      } catch (err) {
        await replicas.failed(row.id, `the scheduled checkpoint failed: ${errorMessage(err)}`);
      }
    }
    return done;
  }
}
