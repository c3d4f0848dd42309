/**
 * The operation journal and its revert helper, in the spirit of Incus's `revert`: an operation is a
 * list of named steps, each with its undo (`step.ts`), recorded in sqlite before it acts. When a
 * step fails, the steps already taken are undone in reverse and the entry closes as `undone`; on
 * success it closes as `done`, in the same transaction as the operation's last database write. A
 * crash leaves the entry open, and `recover` (reconcile) resumes or undoes it from what the journal
 * holds, whatever its kind: one code path.
 *
 * @example
 * journal.define(hostStart, hostDefine);
 * await journal.perform({ kind: 'launch', instanceId: id, hostId }, async (op) => {
 *   await op.run(hostDefine, { hostId, instanceId: id });
 *   await op.run(hostStart, { hostId, instanceId: id });
 *   await op.finish(markRunning, { instanceId: id });
 * });
 */
import { errorMessage, StormError } from '../../../common/errors.js';
import type { Database } from '../db/database.js';
import { type FaultPoint, faultPoint, maybeFault } from './faults.js';
import { JournalStore, type OpenRequest, type OperationRecord } from './journal-store.js';
import type { Step, TxStep, Undoable, UndoContext } from './step.js';

export interface RevertOutcome {
  /** Every step taken was undone, and the entry closed. */
  readonly complete: boolean;
  readonly reason: string;
  /** The undo that failed (the revert stops there; reconcile takes it up again). */
  readonly problems: readonly string[];
  /** Reconcile undid it (a crash or an earlier failed undo), not the process that ran it. */
  readonly interrupted: boolean;
}

/** What a kind of operation adds to the one path: how to finish it, and what to say when it was undone. */
export interface OperationKind {
  readonly name: string;
  /** Never undone: a failure or a crash leaves it open, and reconcile calls `resume` until it finishes. */
  readonly forwardOnly?: boolean;
  /**
   * Once a step of this name is done, the operation only goes forward (a move whose record names
   * its new host): a failure from there leaves it open and reconcile calls `resume` until it finishes.
   */
  readonly noReturnAfter?: string;
  /**
   * For an operation a crash interrupted before any undo: finish it forward (true) when its steps
   * got far enough, else it is undone (false). Without it, the operation is undone.
   */
  resume?(op: OperationRecord, handle: Operation): Promise<boolean>;
  /** After a revert, complete or stopped at an undo that failed: the instance's state, the events. */
  reverted?(op: OperationRecord, outcome: RevertOutcome): Promise<void>;
}

/** `closed`: it ended while the caller looked (an operation of this process that finished meanwhile): nothing to do. */
export type Recovery = 'finished' | 'undone' | 'stuck' | 'closed';

/** What an operation records with: the journal's store and database, its fault point, its registry. */
interface Recorder {
  readonly store: JournalStore;
  readonly db: Database;
  readonly fault: FaultPoint | undefined;
  /** Throws for a step the journal could not undo after a restart (not defined). */
  check(step: { readonly name: string }): void;
}

/** An open operation: runs its steps through the journal. */
export class Operation {
  private isClosed = false;

  constructor(
    private readonly rec: Recorder,
    readonly id: string,
    readonly kind: string,
  ) {}

  get closed(): boolean {
    return this.isClosed;
  }

  /** Records the step's intent, runs it, records what its undo needs. A step that throws stays `started` (its undo runs too). */
  async run<I, R, K, X>(step: Step<I, R, K, X>, intent: I, input?: X): Promise<R> {
    const { store, db } = this.rec;
    this.rec.check(step);
    const seq = await store.startStep(db, this.id, step.name, intent);
    // `input` is optional only for steps that take none (X = undefined).
    const result = await step.run(intent, input as X);
    maybeFault(this.rec.fault, this.kind, step.name);
    await store.doneStep(db, this.id, seq, step.keep?.(result));
    return result;
  }

  /** A database step: it acts in the transaction that records it done. */
  async commit<I, R, K, X>(step: TxStep<I, R, K, X>, intent: I, input?: X): Promise<R> {
    return this.inTx(step, intent, input as X, false);
  }

  /** The operation's last database step and its closing, in one transaction. */
  async finish<I, R, K, X>(step: TxStep<I, R, K, X>, intent: I, input?: X): Promise<R> {
    return this.inTx(step, intent, input as X, true);
  }

  /** Closes the operation as done (no last step of its own). */
  async close(): Promise<void> {
    await this.rec.store.close(this.rec.db, this.id, 'done');
    this.isClosed = true;
  }

  private async inTx<I, R, K, X>(step: TxStep<I, R, K, X>, intent: I, input: X, last: boolean): Promise<R> {
    const { store, db } = this.rec;
    this.rec.check(step);
    const result = await db.transaction(async (tx) => {
      const seq = await store.startStep(tx, this.id, step.name, intent);
      const r = await step.runInTx(tx, intent, input, { operationId: this.id, onHost: (hostId) => store.setHost(tx, this.id, hostId) });
      await store.doneStep(tx, this.id, seq, step.keep?.(r));
      if (last) await store.close(tx, this.id, 'done');
      return r;
    });
    if (last) this.isClosed = true;
    maybeFault(this.rec.fault, this.kind, step.name);
    return result;
  }
}

export class Journal {
  readonly store: JournalStore;
  private readonly rec: Recorder;
  private readonly steps = new Map<string, Undoable>();
  private readonly kinds = new Map<string, OperationKind>();
  /** Operations this process is running or recovering: operation id → instance id. */
  private readonly active = new Map<string, string | null>();
  /** When an operation of each instance last ended here (ms): a host's report from before then is stale. */
  private readonly settledAt = new Map<string, number>();

  constructor(
    private readonly db: Database,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.store = new JournalStore(db);
    this.rec = {
      store: this.store,
      db,
      fault: faultPoint(env),
      check: (step) => {
        if (!this.steps.has(step.name)) throw new Error(`step ${step.name} is not defined in the journal`);
      },
    };
  }

  /** Registers steps, so their undo is found by name after a restart. */
  define(...steps: readonly Undoable[]): void {
    for (const s of steps) {
      const known = this.steps.get(s.name);
      if (known && known !== s) throw new Error(`two steps are named ${s.name}`);
      this.steps.set(s.name, s);
    }
  }

  defineKind(kind: OperationKind): void {
    if (this.kinds.has(kind.name)) throw new Error(`two kinds of operation are named ${kind.name}`);
    this.kinds.set(kind.name, kind);
  }

  /** True when a step of that name is defined: its undo can run after a restart. */
  knows(name: string): boolean {
    return this.steps.has(name);
  }

  /** True while this process runs (or recovers) an operation of the instance. */
  isActive(instanceId: string): boolean {
    for (const id of this.active.values()) if (id === instanceId) return true;
    return false;
  }

  /**
   * True when no operation of the instance ran here at or after `at` (ms): what a host reported then
   * (a heartbeat's states, read while a step started or stopped the domain) may set its state.
   */
  quietSince(instanceId: string, at: number): boolean {
    return !this.isActive(instanceId) && (this.settledAt.get(instanceId) ?? -Infinity) < at;
  }

  private settle(operationId: string): void {
    const instanceId = this.active.get(operationId);
    this.active.delete(operationId);
    if (!instanceId) return;
    const now = Date.now();
    this.settledAt.set(instanceId, now);
    // A report is stale for a heartbeat or two at most: older marks can go.
    for (const [id, t] of this.settledAt) if (now - t > 600_000) this.settledAt.delete(id);
  }

  /**
   * Opens an operation and runs `body` with it. When `body` throws, the steps it took are undone in
   * reverse (a forward-only kind stays open for reconcile) and the error is thrown again; when it
   * returns without finishing, the operation closes as done.
   */
  async perform<T>(req: OpenRequest, body: (op: Operation) => Promise<T>): Promise<T> {
    const id = await this.store.open(req);
    this.active.set(id, req.instanceId ?? null);
    const op = new Operation(this.rec, id, req.kind);
    try {
      const out = await body(op);
      if (!op.closed) await op.close();
      return out;
    } catch (err) {
      if (!op.closed) {
        const reason = describe(err);
        const record = (await this.store.get(id))!;
        if (this.forwardFrom(record)) await this.store.setError(id, reason);
        else await this.revert(record, reason, false);
      }
      throw err;
    } finally {
      this.settle(id);
    }
  }

  /** Open operations no one in this process is running: a crash, or an undo that failed. */
  async interrupted(): Promise<OperationRecord[]> {
    return (await this.store.listOpen()).filter((op) => !this.active.has(op.id));
  }

  /** The instance's open operations (running here, interrupted, or stuck in an undo). */
  openFor(instanceId: string): Promise<OperationRecord[]> {
    return this.store.openFor(instanceId);
  }

  /**
   * Reconcile's one path for an interrupted operation of any kind: resumed when its kind can finish
   * it from where it stopped, else its recorded steps undone in reverse.
   */
  async recover(seen: OperationRecord): Promise<Recovery> {
    if (this.active.has(seen.id)) throw new Error(`operation ${seen.id} is running in this process`);
    this.active.set(seen.id, seen.instanceId);
    try {
      // Read again under our mark: the caller's copy may predate a close (a live operation that ended while reconcile read it).
      const op = await this.store.get(seen.id);
      if (!op || (op.state !== 'running' && op.state !== 'undoing')) return 'closed';
      const kind = this.kinds.get(op.kind);
      if (op.state === 'running' && kind?.resume) {
        const handle = new Operation(this.rec, op.id, op.kind);
        if (await kind.resume(op, handle)) {
          if (!handle.closed) await handle.close();
          return 'finished';
        }
      }
      if (this.forwardFrom(op)) return 'stuck';
      const outcome = await this.revert(op, op.error ?? `interrupted ${op.kind}`, true);
      return outcome.complete ? 'undone' : 'stuck';
    } finally {
      this.settle(seen.id);
    }
  }

  /** True when the operation may only go forward: its kind never undoes, or it passed its point of no return. */
  private forwardFrom(op: OperationRecord): boolean {
    const kind = this.kinds.get(op.kind);
    if (kind?.forwardOnly) return true;
    return !!kind?.noReturnAfter && op.state === 'running' && op.steps.some((s) => s.name === kind.noReturnAfter && s.state === 'done');
  }

  /** Closes the instance's open operations no one runs, when the instance itself is being destroyed. */
  async supersede(instanceId: string): Promise<void> {
    for (const op of await this.store.openFor(instanceId)) {
      if (this.active.has(op.id)) continue;
      await this.store.close(this.db, op.id, 'superseded');
    }
  }

  /** Undoes the steps taken, newest first; stops at an undo that fails (reconcile takes it up again). */
  private async revert(op: OperationRecord, reason: string, interrupted: boolean): Promise<RevertOutcome> {
    await this.store.undoing(op.id, reason);
    const ctx: UndoContext = { operationId: op.id, kind: op.kind, reason };
    const problems: string[] = [];
    for (const s of [...op.steps].reverse()) {
      if (s.state === 'undone') continue;
      const step = this.steps.get(s.name);
      try {
        if (!step) throw new Error('this manager knows no such step');
        await step.undo?.(s.intent, s.kept, ctx);
        await this.store.undoneStep(op.id, s.seq);
      } catch (err) {
        problems.push(`${s.name}: ${errorMessage(err)}`);
        await this.store.undoFailed(op.id, s.seq, errorMessage(err));
        break;
      }
    }
    const outcome: RevertOutcome = { complete: problems.length === 0, reason, problems, interrupted };
    if (outcome.complete) await this.store.close(this.db, op.id, 'undone');
    // The hook says what happened; a failure there must not hide the operation's own error.
    await this.kinds
      .get(op.kind)
      ?.reverted?.(op, outcome)
      .catch(() => undefined);
    return outcome;
  }
}

/** `CODE: message` for a catalogued error, else its message: what the instance's last error shows. */
export function describe(err: unknown): string {
  return err instanceof StormError ? `${err.code}: ${err.message}` : errorMessage(err);
}
