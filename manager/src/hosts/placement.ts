/**
 * Placement: the instance must fit a ready host's free memory (after what launches already under way
 * will take: see `headroom`); by default instances spread (fewest instances first, then most free memory); `pin`
 * names the one host to use, which must still fit. A degraded host is never picked: pinned to one,
 * or with no ready host but degraded ones, the launch fails with MGR_ERR_HOST_DEGRADED and their reasons.
 * A drained host (and a dead one, which is drained too) is never picked either, not even to spread;
 * a pin to it fails with MGR_ERR_HOST_DRAINED, saying to undrain it.
 * `place` decides from candidates; `Placement` gathers them (the hosts' last heartbeats, and what
 * the instances already hold) for a launch, or for the next host of a move.
 *
 * @example
 * const host = place({ memoryMiB: 128 }, candidates); // or place({ memoryMiB: 128, pin: 'host-1' }, candidates)
 * const chosen = await placement.choose({ memoryMiB: 128 });
 */
import { MgrErr } from '../errors.js';
import { viewStatus } from './host-health.js';
import type { Queryable } from '../db/database.js';
import type { HostRow, HostStore } from './host-store.js';

export interface PlacementCandidate {
  readonly id: string;
  readonly name: string;
  readonly status: string;
  /** Why it is degraded (with status `degraded`). */
  readonly reason?: string | null;
  /** Drained by the administrator (`storm host drain`, `evacuate`, `declare-dead`): it takes nothing new. */
  readonly drained?: boolean;
  /** What the host said it can still give guests. */
  readonly freeMemoryMiB: number;
  readonly instances: number;
  /** What the host's last heartbeat said STORM's running domains hold. */
  readonly reportedMiB: number;
  /** What the manager's records say STORM's instances hold there (launches under way included). */
  readonly heldMiB: number;
}

export interface PlacementRequest {
  readonly memoryMiB: number;
  /** Host id or name. */
  readonly pin?: string;
  /** A host id the instance must not go to (the host that will keep its replica). */
  readonly avoid?: string;
}

/**
 * Free memory as the heartbeat saw it, with STORM's share taken from the records instead: a launch
 * that started after the last heartbeat counts at once, and counts once when the heartbeat catches up.
 */
export function headroom(c: PlacementCandidate): number {
  return c.freeMemoryMiB + c.reportedMiB - c.heldMiB;
}

/** The candidates from the hosts' rows and what the records place on each (`InstanceStore.hostLoad`). */
export function placementCandidates(
  hosts: readonly HostRow[],
  load: ReadonlyMap<string, { instances: number; heldMiB: number }>,
): PlacementCandidate[] {
  return hosts.map((h) => ({
    id: h.id,
    name: h.name,
    status: viewStatus(h),
    reason: h.degraded,
    drained: h.drained_at !== null,
    freeMemoryMiB: h.free_memory_mib ?? 0,
    reportedMiB: h.allocated_memory_mib ?? 0,
    instances: load.get(h.id)?.instances ?? 0,
    heldMiB: load.get(h.id)?.heldMiB ?? 0,
  }));
}

export function place(req: PlacementRequest, all: readonly PlacementCandidate[]): PlacementCandidate {
  const candidates = req.avoid === undefined ? all : all.filter((c) => c.id !== req.avoid);
  if (req.pin !== undefined) {
    const host = candidates.find((c) => c.id === req.pin || c.name === req.pin);
    if (!host && all.some((c) => c.id === req.pin || c.name === req.pin))
      throw MgrErr.MGR_ERR_CONFLICT(`host ${req.pin} is to keep the instance's replica: an instance and its replica live on two hosts`);
    if (!host) throw MgrErr.MGR_ERR_NOT_FOUND(`host ${req.pin}`);
    if (host.drained && host.status !== 'revoked')
      throw MgrErr.MGR_ERR_HOST_DRAINED(
        host.status === 'dead'
          ? `host ${host.name} was declared dead; it takes no instances until storm host undrain ${host.name}`
          : `host ${host.name} is drained; storm host undrain ${host.name} lets it take instances again`,
      );
    if (host.status === 'degraded') throw MgrErr.MGR_ERR_HOST_DEGRADED(degraded(host));
    if (host.status !== 'ready') throw MgrErr.MGR_ERR_NO_CAPACITY(`host ${host.name} is ${host.status}`);
    if (headroom(host) < req.memoryMiB)
      throw MgrErr.MGR_ERR_NO_CAPACITY(`host ${host.name} has ${headroom(host)} MiB free, the instance needs ${req.memoryMiB} MiB`);
    return host;
  }
  // Drained hosts are out before anything else: they are neither ready nor sick to a launch.
  const open = candidates.filter((c) => !c.drained);
  const fits = open.filter((c) => c.status === 'ready' && headroom(c) >= req.memoryMiB);
  if (fits.length === 0) {
    const ready = open.filter((c) => c.status === 'ready');
    const sick = open.filter((c) => c.status === 'degraded');
    const drained = candidates.length - open.length;
    if (ready.length === 0 && sick.length) throw MgrErr.MGR_ERR_HOST_DEGRADED(`no host is ready; ${sick.map(degraded).join('; ')}`);
    throw MgrErr.MGR_ERR_NO_CAPACITY(
      ready.length === 0
        ? `no host is ready${drained ? ` (${drained} drained)` : ''}`
        : `the instance needs ${req.memoryMiB} MiB; the most any ready host has free is ${Math.max(...ready.map(headroom))} MiB`,
    );
  }
  return [...fits].sort((a, b) => a.instances - b.instances || headroom(b) - headroom(a) || a.name.localeCompare(b.name))[0]!;
}

function degraded(c: PlacementCandidate): string {
  return `host ${c.name} is degraded: ${c.reason ?? 'a check fails'}`;
}

/** What the records place on each host: instances, and the memory they hold (`InstanceStore.hostLoad`). */
export interface PlacementLoad {
  hostLoad(q?: Queryable): Promise<Map<string, { instances: number; heldMiB: number }>>;
}

export class Placement {
  constructor(
    private readonly hosts: HostStore,
    private readonly load: PlacementLoad,
  ) {}

  /**
   * The host placement picks now, from the hosts' last heartbeats and the records. Given the
   * transaction that records the choice (a launch's reserve), every launch reserved before counts.
   */
  async choose(req: PlacementRequest, q?: Queryable): Promise<PlacementCandidate> {
    return place(req, placementCandidates(await this.hosts.list(q), await this.load.hostLoad(q)));
  }
}
