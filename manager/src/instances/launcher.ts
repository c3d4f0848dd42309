/**
 * The launch, as one journaled operation: resolve and pull the appliance, choose a host, then run
 * the parts of its kind's plan (`launch-parts.ts`: the record and its address, principals, staging,
 * the directory account, the instance layer, define, start); the last step marks it running as the
 * journal closes. A step that fails undoes the ones taken, in reverse (the record goes last); a
 * crash leaves the operation open, and reconcile finishes it (the guest already runs) or undoes it
 * from the journal.
 *
 * @example
 * const id = await launcher.launch({ appliance: 'hello-web', name: 'web1', params: { greeting: 'Hi' } });
 */
import type { Catalog, CatalogEntry } from '../catalog/catalog.js';
import { MgrErr } from '../errors.js';
import type { EventBus } from '../events/bus.js';
import { newGuestToken } from '../guests/guest-token.js';
import type { HostRegistry } from '../hosts/host-registry.js';
import type { Placement } from '../hosts/placement.js';
import { newId } from '../ids.js';
import type { PullService } from '../images/pull-service.js';
import type { Journal, Operation, RevertOutcome } from '../operations/journal.js';
import type { OperationRecord } from '../operations/journal-store.js';
import type { InstanceSteps } from './instance-steps.js';
import type { InstanceFile, InstanceStore } from './instance-store.js';
import { type ApplianceKind, applianceKind, type LaunchPart, type LaunchRun } from './launch-parts.js';
import { diskSizeFor } from '../cloud-images/image-parts.js';
import { resolveParams } from './params.js';
import { dataVolumeName, VOLUME_NAME_MAX } from '../volumes/volume-store.js';

export type { LaunchStep } from './launch-parts.js';

export interface LaunchRequest {
  readonly appliance: string;
  readonly version?: string;
  readonly channel?: string;
  readonly name: string;
  readonly params?: Readonly<Record<string, unknown>>;
  /** Host id or name to pin the instance to. */
  readonly host?: string;
  /** A host id placement must not choose (the one that keeps the instance's replica). */
  readonly avoid?: string;
  /** A traditional appliance's disk in MiB; default (and least) its descriptor's minimum. */
  readonly diskMiB?: number;
  /** SSH public keys a traditional appliance's cloud-init installs (the launch's and the administrator's own). */
  readonly sshKeys?: readonly string[];
}

export interface LauncherOptions {
  readonly journal: Journal;
  readonly store: InstanceStore;
  readonly catalog: Catalog;
  readonly pulls: PullService;
  readonly hosts: HostRegistry;
  readonly bus: EventBus;
  readonly placement: Placement;
  readonly instanceSteps: InstanceSteps;
  /** The parts of a launch per kind of appliance (`launchPlans`). */
  readonly plans: Readonly<Record<ApplianceKind, readonly LaunchPart[]>>;
}

export const INSTANCE_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export class Launcher {
  /** The steps of the parts that start the guest: a launch that took one may be finished by reconcile. */
  private readonly starts: ReadonlySet<string>;

  constructor(private readonly opts: LauncherOptions) {
    const { journal, instanceSteps: i, plans } = opts;
    const parts = Object.values(plans).flat();
    journal.define(i.running, ...parts.flatMap((p) => p.steps));
    this.starts = new Set(parts.filter((p) => p.event === 'started').flatMap((p) => p.steps.map((s) => s.name)));
    journal.defineKind({
      name: 'launch',
      resume: (op, handle) => this.resume(op, handle),
      reverted: (op, outcome) => this.reverted(op, outcome),
    });
  }

  async launch(req: LaunchRequest): Promise<string> {
    if (!INSTANCE_NAME.test(req.name))
      throw MgrErr.MGR_ERR_VALIDATION(`instance name ${JSON.stringify(req.name)}: lower-case letters, digits and dashes, at most 63`);
    const entry = await this.opts.catalog.resolve(req.appliance, req.version, req.channel);
    const params = resolveParams(entry.descriptor.parameters, req.params ?? {});
    const extra = {
      ...(req.diskMiB === undefined ? {} : { diskMiB: req.diskMiB }),
      ...(req.sshKeys?.length ? { sshKeys: req.sshKeys } : {}),
    };
    if (entry.descriptor.image) diskSizeFor({ entry, ...extra });
    else if (req.diskMiB !== undefined) throw MgrErr.MGR_ERR_VALIDATION(`${entry.name} is a layered appliance: it takes no disk size`);
    if (entry.descriptor.dataVolume && dataVolumeName(req.name).length > VOLUME_NAME_MAX)
      throw MgrErr.MGR_ERR_VALIDATION(
        `instance name ${req.name}: ${entry.name} declares a data volume, named ${dataVolumeName(req.name)}, longer than ${VOLUME_NAME_MAX}; take a shorter name`,
      );
    if (await this.opts.store.byName(req.name)) throw MgrErr.MGR_ERR_CONFLICT(`an instance named ${req.name} exists`);
    const place = { memoryMiB: entry.memoryMiB, ...(req.host ? { pin: req.host } : {}), ...(req.avoid ? { avoid: req.avoid } : {}) };
    // A launch no host can take fails now, not after a pull of its layers (placement runs again as the record is made).
    await this.opts.placement.choose(place);
    if (!entry.cached) await this.opts.pulls.pull(entry);
    const id = newId('i');
    return this.opts.journal.perform({ kind: 'launch', instanceId: id, subject: { name: req.name } }, async (op) => {
      const { token, hash } = newGuestToken();
      const files = entry.files.map(
        (f): InstanceFile => ({ position: f.position, role: f.role, kind: f.kind, sha256: f.sha256, size: f.size }),
      );
      await this.run({ op, id, name: req.name, place, entry, params, files, token, tokenHash: hash, guestFiles: {}, ...extra });
      return id;
    });
  }

  private async run(run: LaunchRun): Promise<void> {
    for (const part of this.plan(run.entry)) {
      await part.run(run);
      if (part.event) this.opts.bus.publish('instance.launch', { id: run.id, name: run.name, step: part.event });
    }
    await run.op.finish(this.opts.instanceSteps.running, { instanceId: run.id });
    this.opts.bus.publish('instance.state', { id: run.id, name: run.name, state: 'running' });
  }

  private plan(entry: CatalogEntry): readonly LaunchPart[] {
    return this.opts.plans[applianceKind(entry)];
  }

  /** Reconcile: a launch that got as far as a running guest is finished rather than undone. */
  private async resume(op: OperationRecord, handle: Operation): Promise<boolean> {
    if (!op.instanceId || !op.hostId || !op.steps.some((s) => this.starts.has(s.name))) return false;
    const status = await (await this.opts.hosts.client(op.hostId)).instance(op.instanceId).catch(() => undefined);
    if (status?.state !== 'running' || !status.hasLayer) return false;
    await handle.finish(this.opts.instanceSteps.running, { instanceId: op.instanceId });
    this.opts.bus.publish('instance.state', { id: op.instanceId, name: op.subject['name'], state: 'running' });
    return true;
  }

  /** Undone: the record is gone; an undo that failed keeps it, `failed`, until reconcile finishes the undo. */
  private async reverted(op: OperationRecord, outcome: RevertOutcome): Promise<void> {
    const id = op.instanceId;
    const name = op.subject['name'];
    // Refused before any step (a name taken meanwhile): there was no launch to undo.
    if (op.steps.length === 0) return;
    if (outcome.complete) {
      // Undone by reconcile, it says so itself (`reconcile.launch-undone`).
      if (!outcome.interrupted) this.opts.bus.publish('instance.launch-failed', { id, name, error: outcome.reason });
      return;
    }
    if (!id) return;
    await this.opts.store.setState(id, 'failed', {
      error: `launch failed (${outcome.reason}); its undo stopped at ${outcome.problems.join('; ')}`,
    });
    this.opts.bus.publish('instance.state', { id, name, state: 'failed', error: outcome.reason });
  }
}
