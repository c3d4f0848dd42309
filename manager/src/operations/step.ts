/**
 * A step of an operation: one named action with its undo. The journal records the step's intent
 * before it acts and what `keep` takes of its result once it is done, so the undo can run in this
 * process when a later step fails, or in the next one when a crash cut the operation short.
 *
 * An undo gets the intent and what was kept (undefined when the step never finished). It must be
 * safe to run twice, and safe when the step never acted or acted only in part.
 *
 * @example
 * const start: Step<{ hostId: string; instanceId: string }> = {
 *   name: 'host.start',
 *   run: async ({ hostId, instanceId }) => void (await hosts.client(hostId)).action(instanceId, { action: 'start' }),
 *   undo: async ({ hostId, instanceId }) => void (await hosts.client(hostId)).action(instanceId, { action: 'destroy' }),
 * };
 */
import type { Queryable } from '../db/database.js';

/** Why an undo runs, and for which operation. */
export interface UndoContext {
  readonly operationId: string;
  readonly kind: string;
  /** The failure the operation is undone for (an interruption: `interrupted <kind>`). */
  readonly reason: string;
}

interface StepCommon<I, K> {
  /** Unique in the manager: the journal finds the undo by this name after a restart. */
  readonly name: string;
  /** Puts back what the step did, from its intent and (once it finished) what was kept. */
  undo?(intent: I, kept: K | undefined, ctx: UndoContext): Promise<void>;
}

/** A step that acts outside the database (a host, the KDC, a file): recorded before and after. */
export interface Step<I, R = void, K = undefined, X = undefined> extends StepCommon<I, K> {
  /** Acts. `input` is what the step needs but the journal must not keep (a guest's token, say). */
  run(intent: I, input: X): Promise<R>;
  /** What of the result the undo needs, recorded when the step is done; never a secret. */
  keep?(result: R): K;
}

/** What a database step may say of its operation, in the same transaction. */
export interface TxScope {
  readonly operationId: string;
  /** The host the operation acts on, once a step chose it (a launch's reserve, by placement). */
  onHost(hostId: string): Promise<void>;
}

/**
 * A step that only writes the database: it acts in the transaction that records it done, so it
 * happened exactly when the journal says so. It must use `tx` alone (the database's own methods
 * would wait for the transaction it is in).
 */
export interface TxStep<I, R = void, K = undefined, X = undefined> extends StepCommon<I, K> {
  runInTx(tx: Queryable, intent: I, input: X, scope: TxScope): Promise<R>;
  keep?(result: R): K;
}

/** Any step, as the journal's registry holds it: a name and an undo. */
export interface Undoable {
  readonly name: string;
  undo?(intent: unknown, kept: unknown, ctx: UndoContext): Promise<void>;
}
