/**
 * `storm move NAME --to HOST`: an instance moved to another host, one journaled operation.
 *
 * A running layered instance moves live when it can (kind `live-move`): the stack's read-only files
 * staged on the target → the target readied (`move.prepare-incoming`: its folder and an empty
 * writable layer, the definition it will take) → libvirt migrates the running guest, memory and
 * writable layer, source to target (`move.migrate`: the point of no return once done; the source's
 * stormd removes its folder) → the record's host switched → the source checked empty. It can when
 * the target takes live moves (its stormd has `--migration-uri`) and the instance has no frozen
 * writable layers; otherwise it is refused (409) unless `allowRestart`, which moves it cold.
 *
 * A cold move (kind `move`): [stopped on the source, with `allowRestart` and only if it ran] → the
 * stack's read-only files staged on the target (only those it lacks) → the instance's own files
 * relayed source → target through the manager and checked by sha256 where they land → the domain
 * defined on the target (same name, UUID, MAC, address; the guest token is in the copied layer) →
 * the record's host switched (the point of no return) → the source's domain and folder removed →
 * [started on the target].
 *
 * Either way a failure or a crash before its point of no return undoes what was done on the target
 * and leaves the source as it was (started again if it ran); from there it only goes forward, and
 * reconcile finishes it. A live move cut short inside `move.migrate` goes where the two hosts say
 * the guest is (`live-move-fate.ts`). `move` is what evacuation calls.
 *
 * @example
 * await ctx.moves.move('web1', 'host-b', {});                    // stopped: cold; running: live, or 409 saying why not
 * await ctx.moves.move('web1', 'host-b', { allowRestart: true }); // running and not live-movable: stopped, moved, started
 */
import { MgrErr } from '../errors.js';
import type { EventBus } from '../events/bus.js';
import type { HostRegistry } from '../hosts/host-registry.js';
import type { Placement } from '../hosts/placement.js';
import type { Journal, Operation, RevertOutcome } from '../operations/journal.js';
import type { OperationRecord } from '../operations/journal-store.js';
import type { VolumeStore } from '../volumes/volume-store.js';
import { type DomainRequests, identityOf, shapeOf } from './domain-request.js';
import { TRANSITIONAL } from './host-states.js';
import type { HostSteps } from './host-steps.js';
import type { InstanceService } from './instance-service.js';
import type { InstanceFile, InstanceRow, InstanceStore } from './instance-store.js';
import type { InstanceView } from './instance-view.js';
import { liveMoveFate } from './live-move-fate.js';
import { type LiveMoveIntent, type LiveMoveSteps, stateOn } from './live-move-steps.js';
import type { MoveIntent, MoveSteps } from './move-steps.js';
import type { Staging } from './staging.js';

export interface MoveOptions {
  /** A running instance that cannot move live is stopped, moved cold and started on the target (else it is refused). */
  readonly allowRestart?: boolean;
}

export interface MoveResult {
  readonly instance: InstanceView;
  /** The hosts' names. */
  readonly from: string;
  readonly to: string;
  /** Bytes of the instance's own files copied host to host. */
  readonly bytes: number;
  /** It ran, was stopped for the move and started on the target. */
  readonly restarted: boolean;
  /** It ran and moved live, never stopped. */
  readonly live: boolean;
  /** A live move's pause as libvirt measured it; null for a cold move. */
  readonly downtimeMs: number | null;
}

export interface MoveServiceOptions {
  readonly journal: Journal;
  readonly store: InstanceStore;
  readonly hosts: HostRegistry;
  /** Whether the target can take the instance, by placement's own rules for a host named. */
  readonly placement: Pick<Placement, 'choose'>;
  readonly instances: InstanceService;
  readonly volumes: VolumeStore;
  readonly staging: Staging;
  readonly hostSteps: HostSteps;
  readonly moveSteps: MoveSteps;
  readonly liveSteps: LiveMoveSteps;
  readonly requests: DomainRequests;
  readonly bus: EventBus;
  readonly stopTimeoutMs?: number;
}

/** What the operation's subject records: enough for reconcile to finish it. */
interface MoveSubject {
  readonly name: string;
  readonly from: string;
  readonly to: string;
  readonly restart: boolean;
}

/** Domain states in which the instance is not running (its disks stand still). */
const OFF = new Set(['shutoff', 'crashed', 'absent']);

export class MoveService {
  constructor(private readonly opts: MoveServiceOptions) {
    const { journal, staging, hostSteps: h, moveSteps: m, liveSteps: l } = opts;
    journal.define(h.stopForChange, staging.step, m.copy, h.define, m.switchHost, m.removeSource, h.start);
    journal.define(l.prepareIncoming, l.migrate);
    journal.defineKind({
      name: 'live-move',
      noReturnAfter: l.migrate.name,
      resume: (op, handle) => this.resumeLive(op, handle),
      reverted: (op, outcome) => this.noteReverted(op, outcome),
    });
    journal.defineKind({
      name: 'move',
      noReturnAfter: m.switchHost.name,
      resume: (op, handle) => this.resume(op, handle),
      reverted: (op, outcome) => this.noteReverted(op, outcome),
    });
  }

  /** An undone move leaves its reason as the instance's last error. */
  private async noteReverted(op: OperationRecord, outcome: RevertOutcome): Promise<void> {
    if (!op.instanceId) return;
    await this.opts.store.setState(op.instanceId, (await this.opts.store.get(op.instanceId))?.state ?? 'unknown', {
      error: `move: ${outcome.reason}${outcome.complete ? '' : ` (undo stopped at ${outcome.problems.join('; ')})`}`,
    });
  }

  /**
   * Moves the instance `name` to the host `to` (a name or an id), or where placement picks when `to`
   * is absent (an evacuation: its drained host is never picked); see the file's comment for the steps.
   */
  async move(name: string, to: string | undefined, opts: MoveOptions = {}): Promise<MoveResult> {
    const { instances, hosts, journal, store, volumes } = this.opts;
    const row = await instances.find(name);
    to ??= (await this.opts.placement.choose({ memoryMiB: row.memory_mib })).id;
    const target = (await hosts.store.byName(to)) ?? (await hosts.store.get(to));
    if (!target || target.status === 'revoked') throw MgrErr.MGR_ERR_NOT_FOUND(`host ${to}`);
    if (!row.host_id) throw MgrErr.MGR_ERR_CONFLICT(`instance ${row.name} has no host`);
    const source = await hosts.store.get(row.host_id);
    if (row.host_id === target.id) throw MgrErr.MGR_ERR_CONFLICT(`instance ${row.name} is on ${target.name} already`);
    // Placement's rules for a named host (ready, not degraded, room for its memory).
    await this.opts.placement.choose({ memoryMiB: row.memory_mib, pin: target.id });
    if (TRANSITIONAL.has(row.state)) throw MgrErr.MGR_ERR_CONFLICT(`instance ${row.name} is ${row.state}`);
    if (journal.isActive(row.id) || (await journal.openFor(row.id)).length)
      throw MgrErr.MGR_ERR_CONFLICT(`instance ${row.name} is in the middle of another operation; try again when it ends`);
    const files = await store.files(row.id);
    if (files.some((f) => f.kind === 'image'))
      throw MgrErr.MGR_ERR_MOVE_UNSUPPORTED(`${row.name} is a traditional (disk-image) instance: only layered instances move yet`);
    const attached = await volumes.byInstance(row.id);
    if (attached.length)
      throw MgrErr.MGR_ERR_MOVE_UNSUPPORTED(
        `${row.name} has data volume ${attached.map((v) => v.name).join(', ')} attached, and volumes do not move yet: detach it first (storm volume detach)`,
      );
    const { state } = await (await hosts.client(row.host_id)).instance(row.id);
    const running = !OFF.has(state);
    const frozen = shapeOf(row, files).frozen.length;
    const notLive = !running
      ? null
      : state !== 'running'
        ? `it is ${state}`
        : !target.migration_uri
          ? `${target.name} takes no live moves (its stormd runs without --migration-uri)`
          : frozen
            ? `it has ${frozen} frozen writable layer${frozen === 1 ? '' : 's'}, which a live move does not carry`
            : null;
    if (running && !notLive) {
      const live: LiveMoveIntent = {
        instanceId: row.id,
        from: row.host_id,
        to: target.id,
        targetUri: target.migration_uri!,
        ...(target.migration_memory_uri ? { memoryUri: target.migration_memory_uri } : {}),
        ...(target.migration_disks_uri ? { disksUri: target.migration_disks_uri } : {}),
      };
      return this.moveLive(row, files, live, source?.name ?? row.host_id, target.name);
    }
    if (running && !opts.allowRestart)
      throw MgrErr.MGR_ERR_INSTANCE_RUNNING(
        `instance ${row.name} is ${state} on ${source?.name ?? row.host_id} and cannot move live: ${notLive}; stop it first (storm stop ${row.name}), or pass --allow-restart to stop it, move it cold and start it on ${target.name}`,
      );
    const intent: MoveIntent = { instanceId: row.id, from: row.host_id, to: target.id };
    const subject: MoveSubject = { name: row.name, from: row.host_id, to: target.id, restart: running };
    const { hostSteps: h, moveSteps: m, staging, requests } = this.opts;
    const bytes = await journal.perform({ kind: 'move', instanceId: row.id, hostId: row.host_id, subject: { ...subject } }, async (op) => {
      const identity = identityOf(row);
      const stack = shapeOf(row, files);
      if (running)
        await op.run(h.stopForChange, {
          hostId: intent.from,
          instance: identity,
          wasRunning: true,
          previous: stack,
          timeoutMs: this.opts.stopTimeoutMs ?? 30_000,
        });
      await op.run(staging.step, { hostId: intent.to, files });
      const copied = await op.run(m.copy, intent);
      await op.run(h.define, { hostId: intent.to, instanceId: row.id }, requests.build(identity, stack));
      await op.commit(m.switchHost, intent);
      await this.forward(op, intent, subject, new Set());
      return copied;
    });
    this.opts.bus.publish('instance.moved', { id: row.id, name: row.name, from: source?.name ?? row.host_id, to: target.name, bytes });
    return {
      instance: await instances.get(row.id),
      from: source?.name ?? row.host_id,
      to: target.name,
      bytes,
      restarted: running,
      live: false,
      downtimeMs: null,
    };
  }

  /** A running instance moved live; see the file's comment for the steps. */
  private async moveLive(
    row: InstanceRow,
    files: readonly InstanceFile[],
    intent: LiveMoveIntent,
    fromName: string,
    toName: string,
  ): Promise<MoveResult> {
    const { journal, staging, liveSteps: l, requests, instances } = this.opts;
    const subject: MoveSubject = { name: row.name, from: intent.from, to: intent.to, restart: false };
    const moved = await journal.perform(
      { kind: 'live-move', instanceId: row.id, hostId: intent.from, subject: { ...subject } },
      async (op) => {
        await op.run(staging.step, { hostId: intent.to, files });
        const { domainXml } = await op.run(l.prepareIncoming, intent, requests.build(identityOf(row), shapeOf(row, files)));
        const result = await op.run(l.migrate, intent, domainXml);
        await this.forwardLive(op, intent, new Set());
        return result;
      },
    );
    this.opts.bus.publish('instance.moved', { id: row.id, name: row.name, from: fromName, to: toName, bytes: 0 });
    return {
      instance: await instances.get(row.id),
      from: fromName,
      to: toName,
      bytes: 0,
      restarted: false,
      live: true,
      downtimeMs: moved.downtimeMs,
    };
  }

  /** After the migration: the record names the target, the source is checked empty, the instance runs. */
  private async forwardLive(op: Operation, intent: MoveIntent, done: ReadonlySet<string>): Promise<void> {
    const { moveSteps: m, store, instances } = this.opts;
    if (!done.has(m.switchHost.name)) await op.commit(m.switchHost, intent);
    // The source's stormd removed its folder as the migration ended; this makes sure (idempotent).
    if (!done.has(m.removeSource.name)) await op.run(m.removeSource, intent);
    const row = await store.get(intent.instanceId);
    if (row) await instances.setState(row, 'running', { error: null });
  }

  /**
   * Reconcile: a live move whose migration is done is finished forward; one whose migration never
   * started is undone (false). One whose migration started but was never recorded done (the manager
   * died while libvirt migrated, or right after) goes where the hosts say (`liveMoveFate`): forward
   * when the target has the guest and the source none, undone when the source still has it and the
   * target none; while both have it (a migration under way) or neither, it throws and stays open for
   * the next pass.
   */
  private async resumeLive(op: OperationRecord, handle: Operation): Promise<boolean> {
    const migrate = this.opts.liveSteps.migrate.name;
    const done = new Set(op.steps.filter((s) => s.state === 'done').map((s) => s.name));
    if (!op.instanceId) return false;
    // The subject is JSON this service wrote (`MoveSubject`); the journal keeps it as a plain record.
    const s = op.subject as unknown as MoveSubject;
    const intent: MoveIntent = { instanceId: op.instanceId, from: s.from, to: s.to };
    if (!done.has(migrate)) {
      if (!op.steps.some((step) => step.name === migrate)) return false;
      const { fate, why } = await this.migrationFate(intent);
      if (fate === 'back') return false;
      if (fate === 'wait') throw new Error(`the live move's migration may still run: ${why}; left open for the next reconcile`);
    }
    await this.forwardLive(handle, intent, done);
    return true;
  }

  /** Where the guest of a migration cut short is, as both hosts say. */
  private async migrationFate({ instanceId, from, to }: MoveIntent): Promise<ReturnType<typeof liveMoveFate>> {
    const { hosts } = this.opts;
    const [source, target] = await Promise.all([stateOn(hosts, from, instanceId), stateOn(hosts, to, instanceId)]);
    return liveMoveFate({ state: source }, { state: target });
  }

  /** After the switch: the source's copy goes, the instance starts on the target if it ran; `done` names steps already taken. */
  private async forward(op: Operation, intent: MoveIntent, subject: MoveSubject, done: ReadonlySet<string>): Promise<void> {
    const { hostSteps: h, moveSteps: m, store, instances } = this.opts;
    if (!done.has(m.removeSource.name)) await op.run(m.removeSource, intent);
    if (subject.restart && !done.has(h.start.name)) await op.run(h.start, { hostId: intent.to, instanceId: intent.instanceId });
    const row = await store.get(intent.instanceId);
    if (row) await instances.setState(row, subject.restart ? 'running' : 'stopped', { error: null });
  }

  /** Reconcile: a move past its switch is finished forward; one before it is undone (false). */
  private async resume(op: OperationRecord, handle: Operation): Promise<boolean> {
    const done = new Set(op.steps.filter((s) => s.state === 'done').map((s) => s.name));
    if (!op.instanceId || !done.has(this.opts.moveSteps.switchHost.name)) return false;
    // The subject is JSON this service wrote (`MoveSubject`); the journal keeps it as a plain record.
    const s = op.subject as unknown as MoveSubject;
    await this.forward(handle, { instanceId: op.instanceId, from: s.from, to: s.to }, s, done);
    return true;
  }
}
