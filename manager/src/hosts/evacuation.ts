/**
 * Evacuation: `storm host evacuate HOST` drains the host first (so nothing new lands there while it
 * empties, and placement never picks it as a move's target), then moves its instances off one at a
 * time, each through the mover (the move service: live where it can, cold with `allowRestart`),
 * placement choosing each target afresh so that every move sees the ones before it. One failure does
 * not stop the rest; an instance an operation holds, or one already lost, is skipped with why. The
 * answer and the events (`host.evacuation`, `host.evacuated`) say what went where. Evacuating again
 * takes what is left.
 *
 * @example
 * const evacuation = new Evacuation({ hosts, fencing, instances: store, busy, mover, bus });
 * const report = await evacuation.evacuate('host-a', { allowRestart: true });
 */
import { errorMessage } from '../../../common/errors.js';
import type { EvacuationReport } from '../../protocol/index.js';
import { MgrErr } from '../errors.js';
import type { EventBus } from '../events/bus.js';
import type { InstanceRow } from '../instances/instance-store.js';
import type { HostFencing } from './host-fencing.js';
import { type HostRegistry, hostView } from './host-registry.js';

/** Moves one instance to a host (`to`), or to the host placement picks (`undefined`); resolves once it runs (or rests) there. */
export interface InstanceMover {
  move(name: string, to: string | undefined, opts: { allowRestart?: boolean }): Promise<void>;
}

export interface EvacuationOptions {
  readonly hosts: HostRegistry;
  readonly fencing: Pick<HostFencing, 'drain'>;
  readonly instances: { byHost(hostId: string): Promise<InstanceRow[]>; get(id: string): Promise<InstanceRow | undefined> };
  /** True while an operation of the instance runs: it is not the evacuation's to move now. */
  readonly busy: (instanceId: string) => boolean;
  /** The move service; without one, a host with instances cannot be evacuated (it is still drained). */
  readonly mover: InstanceMover | undefined;
  readonly bus: EventBus;
}

/** Why an instance in this state stays where it is. */
const STAYS: Readonly<Record<string, string>> = {
  launching: 'it is launching; evacuate again once it runs',
  destroying: 'it is being destroyed',
  failed: 'its last operation failed; reconcile decides it first',
  lost: 'it is lost: the host has no domain for it, so there is nothing to move',
};

export class Evacuation {
  constructor(private readonly opts: EvacuationOptions) {}

  async evacuate(idOrName: string, options: { allowRestart?: boolean } = {}): Promise<EvacuationReport> {
    const { hosts, bus, instances } = this.opts;
    await this.opts.fencing.drain(idOrName);
    const host = await hosts.get(idOrName);
    if (host.dead_at)
      throw MgrErr.MGR_ERR_CONFLICT(`host ${host.name} was declared dead: its instances are recovered from copies, not moved off it`);
    // Stopped instances first (quick, and they free nothing the running ones need), then by name: a fixed, readable order.
    const rows = (await instances.byHost(host.id)).sort(
      (a, b) => Number(a.state !== 'stopped') - Number(b.state !== 'stopped') || a.name.localeCompare(b.name),
    );
    const moved: { name: string; to: string }[] = [];
    const failed: { name: string; error: string }[] = [];
    const skipped: { name: string; reason: string }[] = [];
    const mover = this.opts.mover;
    const movable = rows.filter((r) => !STAYS[r.state]).length;
    if (movable && !mover)
      throw MgrErr.MGR_ERR_UNAVAILABLE(
        `host ${host.name} is drained, but this manager cannot move instances yet: its ${movable} instance(s) stay`,
      );
    bus.publish('host.evacuation', { id: host.id, name: host.name, instances: rows.map((r) => r.name) });
    for (const seen of rows) {
      // Read again: the move before it took time, and the instance may have changed or gone meanwhile.
      const row = await instances.get(seen.id);
      if (!row || row.host_id !== host.id) continue;
      const stays = STAYS[row.state] ?? (this.opts.busy(row.id) ? 'another operation is working on it' : undefined);
      if (stays) {
        skipped.push({ name: row.name, reason: stays });
        continue;
      }
      try {
        await mover!.move(row.name, undefined, options);
        const after = await instances.get(row.id);
        const to = after?.host_id ? ((await hosts.store.get(after.host_id))?.name ?? after.host_id) : '?';
        if (after?.host_id === host.id) throw new Error('the move answered, but the instance is still on this host');
        moved.push({ name: row.name, to });
        bus.publish('host.evacuation', { id: host.id, name: host.name, instance: row.name, to });
      } catch (err) {
        failed.push({ name: row.name, error: errorMessage(err) });
        bus.publish('host.evacuation', { id: host.id, name: host.name, instance: row.name, error: errorMessage(err) });
      }
    }
    const report = { moved, failed, skipped };
    bus.publish('host.evacuated', { id: host.id, name: host.name, ...report });
    return { host: hostView(await hosts.get(host.id)), ...report };
  }
}
