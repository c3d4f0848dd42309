/**
 * What the administrator decides about a host: drained (placement never picks it), undrained, and
 * declared dead (the fence). A declaration runs the host's fence command first when it has one (its
 * failure stops everything, with its output); without one, only a host already silent past the
 * failure window (`unreachable`) may be declared dead, since nothing else says it is off. Then the
 * host is dead and drained, its instances with a copy on another host are recoverable (`recover`,
 * replication's, restarts each from that copy and says whether it did), the rest are `lost`, each
 * with what went with the host, in the answer and a `host.dead` event.
 *
 * A dead host that answers again (its heartbeat, a reconcile pass) has stale domains: they are
 * never synced or started, but removed (undefined, their files deleted, through its stormd), each a
 * `host.stale-removed` event; the host stays dead until `undrain`, which a dead host accepts only
 * once it answers and holds none of them (it removes them first). docs/hosts.md has the rules.
 *
 * @example
 * await fencing.drain('host-b');
 * const report = await fencing.declareDead('host-b'); // { fence, recoverable, lost, volumesLost }
 * await fencing.undrain('host-b');                     // once it is back: { host, staleRemoved }
 */
import { errorMessage } from '../../../common/errors.js';
import type { DeathReport, HostView, UndrainAnswer } from '../../protocol/index.js';
import { MgrErr } from '../errors.js';
import type { EventBus } from '../events/bus.js';
import type { InstanceRow, InstanceState } from '../instances/instance-store.js';
import { runFence } from './fence-command.js';
import { viewStatus } from './host-health.js';
import { fenceOf, type HostRegistry, hostView } from './host-registry.js';
import type { HostRow } from './host-store.js';

/** Which of these instances have a copy on another host a restart can start from: id → that host's name. */
export type CopyLookup = (instanceIds: readonly string[]) => Promise<ReadonlyMap<string, string>>;

export interface HostFencingOptions {
  readonly hosts: HostRegistry;
  readonly bus: EventBus;
  readonly instances: {
    byHost(hostId: string): Promise<InstanceRow[]>;
    /** Sets the state and publishes `instance.state` (`InstanceService.setState`). */
    setState(row: InstanceRow, state: InstanceState, extra: { error?: string | null }): Promise<void>;
  };
  /** Instance ids an open operation holds: their domains are the journal's, not stale. */
  readonly held: () => Promise<ReadonlySet<string>>;
  /** What lived only on the host besides the writable layer: checkpoints, volumes. */
  readonly survey: {
    checkpoints(instanceId: string): Promise<number>;
    volumes(instanceId: string): Promise<readonly { name: string; sizeMiB: number }[]>;
    /** Volumes of the host attached to no instance. */
    loose(hostId: string): Promise<readonly string[]>;
  };
  /** Copies elsewhere (replication); none without it. */
  readonly copies?: CopyLookup;
  /** Restarts the recoverable instances from their copies once the host is dead (replication); they stay `unknown` without it. */
  readonly recover?: (host: HostRow, recoverable: readonly Recoverable[]) => Promise<readonly Recoverable[]>;
}

type Recoverable = DeathReport['recoverable'][number];

/** States the journal drives: a declaration reports such an instance but leaves its state to the operation. */
const MID_OPERATION: ReadonlySet<InstanceState> = new Set(['launching', 'destroying', 'failed']);

export class HostFencing {
  /** One stale-domain removal per host at a time: heartbeats come every second. */
  private readonly removing = new Map<string, Promise<string[]>>();

  constructor(private readonly opts: HostFencingOptions) {}

  async drain(idOrName: string): Promise<HostView> {
    const host = await this.live(idOrName);
    if (await this.opts.hosts.store.setDrained(host.id, true)) this.opts.bus.publish('host.drained', { id: host.id, name: host.name });
    return hostView(await this.opts.hosts.get(host.id));
  }

  /** Undrains; a dead host only once it answers again, after its stale domains are removed. */
  async undrain(idOrName: string): Promise<UndrainAnswer> {
    const host = await this.live(idOrName);
    const { store } = this.opts.hosts;
    if (!host.dead_at) {
      if (await store.setDrained(host.id, false)) this.opts.bus.publish('host.undrained', { id: host.id, name: host.name });
      return { host: hostView(await this.opts.hosts.get(host.id)), staleRemoved: [] };
    }
    let left: number;
    let staleRemoved: string[];
    try {
      staleRemoved = await this.removeStale(host.id);
      left = (await (await this.opts.hosts.client(host.id)).instances()).length;
    } catch (err) {
      throw MgrErr.MGR_ERR_CONFLICT(
        `host ${host.name} was declared dead and its stale domains cannot be removed (${errorMessage(err)}); it stays dead until it answers again (or storm host rm ${host.name})`,
      );
    }
    if (left > 0)
      throw MgrErr.MGR_ERR_CONFLICT(
        `host ${host.name} still holds ${left} domain(s) an operation is working on; undrain it when that operation ends`,
      );
    await store.clearDead(host.id);
    this.opts.bus.publish('host.undrained', { id: host.id, name: host.name, wasDeadSince: host.dead_at, staleRemoved });
    return { host: hostView(await this.opts.hosts.get(host.id)), staleRemoved };
  }

  async setFence(idOrName: string, fence: { argv: readonly string[]; timeoutSeconds?: number } | null): Promise<HostView> {
    const host = await this.live(idOrName);
    if (fence && fence.argv.length === 0) throw MgrErr.MGR_ERR_VALIDATION('a fence command needs at least its program');
    await this.opts.hosts.store.setFence(host.id, fence && { argv: fence.argv, timeoutSeconds: fence.timeoutSeconds ?? 30 });
    return hostView(await this.opts.hosts.get(host.id));
  }

  /** The administrator's fence: the fence command (if any), then the host is dead and its instances settled. */
  async declareDead(idOrName: string): Promise<DeathReport> {
    const host = await this.live(idOrName);
    if (host.dead_at) throw MgrErr.MGR_ERR_CONFLICT(`host ${host.name} was declared dead at ${host.dead_at}`);
    const fence = fenceOf(host);
    let run: DeathReport['fence'] = null;
    if (fence) {
      const r = await runFence(fence, host);
      run = { argv: r.argv, exitCode: r.exitCode, output: r.output };
      this.opts.bus.publish('host.fence', { id: host.id, name: host.name, ...run });
      if (r.exitCode !== 0)
        throw MgrErr.MGR_ERR_FENCE_FAILED(
          `${host.name}: ${r.timedOut ? `timed out after ${fence.timeoutSeconds} s` : `exit ${r.exitCode}`}: ${r.output.trim() || '(no output)'}`,
          { details: { exitCode: r.exitCode, output: r.output } },
        );
    } else if (viewStatus(host) !== 'unreachable') {
      // Nothing says a heartbeating host is off: declaring it dead would give up instances that still run.
      throw MgrErr.MGR_ERR_CONFLICT(
        `host ${host.name} is ${viewStatus(host)}${host.last_heartbeat ? ` (last heartbeat ${host.last_heartbeat})` : ''}: only a host silent past the failure window can be declared dead without a fence command (storm host fence ${host.name} -- COMMAND…); to empty a live host, storm host evacuate ${host.name}`,
      );
    }
    await this.opts.hosts.store.setDead(host.id);
    const settled = await this.settle(host);
    const recovered = this.opts.recover ? await this.opts.recover(host, settled.recoverable) : settled.recoverable;
    const report = { ...settled, recoverable: [...recovered] };
    const dead = hostView(await this.opts.hosts.get(host.id));
    this.opts.bus.publish('host.dead', {
      id: host.id,
      name: host.name,
      fenced: run !== null,
      recoverable: report.recoverable,
      lost: report.lost,
      volumesLost: report.volumesLost,
    });
    return { host: dead, fence: run, ...report };
  }

  /** The instances of a host just declared dead: recoverable (a copy elsewhere) or lost, with what was lost. */
  private async settle(host: HostRow): Promise<Pick<DeathReport, 'recoverable' | 'lost' | 'volumesLost'>> {
    const { instances, survey } = this.opts;
    const rows = await instances.byHost(host.id);
    const copies = (await this.opts.copies?.(rows.map((r) => r.id))) ?? new Map<string, string>();
    const recoverable: Recoverable[] = [];
    const lost: DeathReport['lost'][number][] = [];
    for (const row of rows) {
      const copyOn = copies.get(row.id);
      if (copyOn) {
        recoverable.push({ id: row.id, name: row.name, copyOn });
        await instances.setState(row, 'unknown', { error: `host ${host.name} was declared dead; a copy on ${copyOn} can restart it` });
        continue;
      }
      const what = await this.lostWith(row);
      lost.push({ id: row.id, name: row.name, was: row.state, lost: what });
      if (MID_OPERATION.has(row.state)) continue;
      await instances.setState(row, 'lost', { error: `host ${host.name} was declared dead; lost with it: ${what.join('; ')}` });
    }
    return { recoverable, lost, volumesLost: [...(await survey.loose(host.id))] };
  }

  private async lostWith(row: InstanceRow): Promise<string[]> {
    const { survey } = this.opts;
    const frozen = (JSON.parse(row.frozen) as unknown[]).length;
    const checkpoints = await survey.checkpoints(row.id);
    return [
      checkpoints
        ? 'its writable layer (everything written since its last checkpoint)'
        : 'its writable layer (everything written since launch)',
      ...(frozen ? [`${frozen} frozen layer(s) of its stack`] : []),
      ...(checkpoints ? [`${checkpoints} checkpoint(s)`] : []),
      ...(await survey.volumes(row.id)).map((v) => `volume ${v.name} (${v.sizeMiB} MiB)`),
    ];
  }

  /**
   * A dead host answers: every domain on it that no open operation holds is stale, and goes
   * (undefined, its files deleted). Returns `host/instance` of each removed. No-op for a host not dead.
   */
  removeStale(hostId: string): Promise<string[]> {
    let p = this.removing.get(hostId);
    if (!p) {
      p = this.removeStaleNow(hostId).finally(() => this.removing.delete(hostId));
      this.removing.set(hostId, p);
    }
    return p;
  }

  /** From a heartbeat: in the background, errors left to the next heartbeat or reconcile pass. */
  heard(hostId: string): void {
    void this.removeStale(hostId).catch(() => undefined);
  }

  private async removeStaleNow(hostId: string): Promise<string[]> {
    const { hosts, bus } = this.opts;
    const host = await hosts.store.get(hostId);
    if (!host?.dead_at || host.status === 'revoked') return [];
    const client = await hosts.client(hostId);
    const onHost = await client.instances();
    if (onHost.length === 0) return [];
    const held = await this.opts.held();
    const names = new Map((await this.opts.instances.byHost(hostId)).map((r) => [r.id, r.name]));
    const removed: string[] = [];
    for (const s of onHost) {
      if (held.has(s.id)) continue;
      await client.removeInstance(s.id);
      const name = names.get(s.id);
      removed.push(`${host.name}/${name ?? s.id}`);
      bus.publish('host.stale-removed', { host: host.name, instance: s.id, ...(name ? { name } : {}), domain: s.domain, state: s.state });
    }
    return removed;
  }

  private async live(idOrName: string): Promise<HostRow> {
    const host = await this.opts.hosts.get(idOrName);
    if (host.status === 'revoked') throw MgrErr.MGR_ERR_CONFLICT(`host ${host.name} is revoked`);
    return host;
  }
}
