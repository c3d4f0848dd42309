/**
 * The operation journal in sqlite (`operations`, `operation_steps`): an operation is open while it
 * runs (`running`) or is being undone (`undoing`), and closed as `done`, `undone` or `superseded`
 * (its instance was destroyed before it could be finished or undone). Each step is `started` (its
 * intent written before it acts), `done` (what its undo needs kept) or `undone`.
 *
 * @example
 * const id = await store.open({ kind: 'launch', instanceId: 'i-1', hostId: 'h-1', subject: { name: 'web1' } });
 * const seq = await store.startStep(db, id, 'host.define', { hostId: 'h-1', instanceId: 'i-1' });
 * await store.doneStep(db, id, seq, undefined);
 */
import type { Database, Queryable } from '../db/database.js';
import { newId } from '../ids.js';

export type OperationState = 'running' | 'undoing' | 'done' | 'undone' | 'superseded';
export type StepState = 'started' | 'done' | 'undone';

export interface StepRecord {
  readonly seq: number;
  readonly name: string;
  readonly state: StepState;
  readonly intent: unknown;
  /** What the undo needs of the step's result; undefined until the step is done. */
  readonly kept: unknown;
  /** Why its last undo failed. */
  readonly error: string | null;
}

export interface OperationRecord {
  readonly id: string;
  readonly kind: string;
  readonly instanceId: string | null;
  readonly hostId: string | null;
  /** What the kind's hooks need (an instance's name, whether it ran), as JSON. */
  readonly subject: Readonly<Record<string, unknown>>;
  readonly state: OperationState;
  readonly error: string | null;
  readonly startedAt: string;
  readonly closedAt: string | null;
  readonly steps: readonly StepRecord[];
}

export interface OpenRequest {
  readonly kind: string;
  readonly instanceId?: string | null;
  readonly hostId?: string | null;
  readonly subject?: Readonly<Record<string, unknown>>;
}

interface OperationRow {
  id: string;
  kind: string;
  instance_id: string | null;
  host_id: string | null;
  subject: string;
  state: OperationState;
  error: string | null;
  started_at: string;
  closed_at: string | null;
}

interface StepRow {
  operation_id: string;
  seq: number;
  name: string;
  state: StepState;
  intent: string;
  kept: string | null;
  error: string | null;
}

const NOW = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";
const OPEN = "('running', 'undoing')";

export class JournalStore {
  constructor(private readonly db: Database) {}

  async open(req: OpenRequest): Promise<string> {
    const id = newId('op');
    await this.db.run('INSERT INTO operations (id, kind, instance_id, host_id, subject, state) VALUES (?, ?, ?, ?, ?, ?)', [
      id,
      req.kind,
      req.instanceId ?? null,
      req.hostId ?? null,
      JSON.stringify(req.subject ?? {}),
      'running',
    ]);
    return id;
  }

  /** Writes the step's intent before it acts; its sequence number. */
  async startStep(q: Queryable, operationId: string, name: string, intent: unknown): Promise<number> {
    const seq =
      ((await q.get<{ n: number | null }>('SELECT MAX(seq) AS n FROM operation_steps WHERE operation_id = ?', [operationId]))?.n ?? 0) + 1;
    await q.run('INSERT INTO operation_steps (operation_id, seq, name, state, intent) VALUES (?, ?, ?, ?, ?)', [
      operationId,
      seq,
      name,
      'started',
      JSON.stringify(intent ?? null),
    ]);
    return seq;
  }

  async doneStep(q: Queryable, operationId: string, seq: number, kept: unknown): Promise<void> {
    await q.run("UPDATE operation_steps SET state = 'done', kept = ? WHERE operation_id = ? AND seq = ?", [
      kept === undefined ? null : JSON.stringify(kept),
      operationId,
      seq,
    ]);
  }

  async undoneStep(operationId: string, seq: number): Promise<void> {
    await this.db.run("UPDATE operation_steps SET state = 'undone', error = NULL WHERE operation_id = ? AND seq = ?", [operationId, seq]);
  }

  async undoFailed(operationId: string, seq: number, error: string): Promise<void> {
    await this.db.run('UPDATE operation_steps SET error = ? WHERE operation_id = ? AND seq = ?', [error, operationId, seq]);
  }

  /** From here on the operation is undone, never finished; `error` says why. */
  async undoing(operationId: string, error: string): Promise<void> {
    await this.db.run(`UPDATE operations SET state = 'undoing', error = COALESCE(error, ?) WHERE id = ? AND state IN ${OPEN}`, [
      error,
      operationId,
    ]);
  }

  /** The host the operation acts on, chosen by one of its steps. */
  async setHost(q: Queryable, operationId: string, hostId: string): Promise<void> {
    await q.run('UPDATE operations SET host_id = ? WHERE id = ?', [hostId, operationId]);
  }

  async setError(operationId: string, error: string): Promise<void> {
    await this.db.run('UPDATE operations SET error = ? WHERE id = ?', [error, operationId]);
  }

  async close(q: Queryable, operationId: string, state: Exclude<OperationState, 'running' | 'undoing'>): Promise<void> {
    await q.run(`UPDATE operations SET state = ?, closed_at = ${NOW} WHERE id = ? AND state IN ${OPEN}`, [state, operationId]);
  }

  async get(operationId: string): Promise<OperationRecord | undefined> {
    const row = await this.db.get<OperationRow>('SELECT * FROM operations WHERE id = ?', [operationId]);
    return row ? this.record(row) : undefined;
  }

  /** Every open operation, oldest first. */
  async listOpen(): Promise<OperationRecord[]> {
    const rows = await this.db.all<OperationRow>(`SELECT * FROM operations WHERE state IN ${OPEN} ORDER BY started_at, id`);
    return Promise.all(rows.map((r) => this.record(r)));
  }

  /** The instances open operations hold: one narrow read, no steps loaded (reconcile asks once a pass). */
  async openInstanceIds(): Promise<Set<string>> {
    const rows = await this.db.all<{ instance_id: string }>(
      `SELECT instance_id FROM operations WHERE state IN ${OPEN} AND instance_id IS NOT NULL`,
    );
    return new Set(rows.map((r) => r.instance_id));
  }

  /** The open operations of one instance. */
  async openFor(instanceId: string): Promise<OperationRecord[]> {
    const rows = await this.db.all<OperationRow>(
      `SELECT * FROM operations WHERE instance_id = ? AND state IN ${OPEN} ORDER BY started_at, id`,
      [instanceId],
    );
    return Promise.all(rows.map((r) => this.record(r)));
  }

  /** Closed operations older than `days` go, with their steps. */
  async prune(days: number): Promise<number> {
    return (
      await this.db.run(`DELETE FROM operations WHERE state NOT IN ${OPEN} AND closed_at < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?)`, [
        `-${days} days`,
      ])
    ).changes;
  }

  private async record(row: OperationRow): Promise<OperationRecord> {
    const steps = await this.db.all<StepRow>('SELECT * FROM operation_steps WHERE operation_id = ? ORDER BY seq', [row.id]);
    return {
      id: row.id,
      kind: row.kind,
      instanceId: row.instance_id,
      hostId: row.host_id,
      subject: JSON.parse(row.subject) as Record<string, unknown>,
      state: row.state,
      error: row.error,
      startedAt: row.started_at,
      closedAt: row.closed_at,
      steps: steps.map((s) => ({
        seq: s.seq,
        name: s.name,
        state: s.state,
        intent: JSON.parse(s.intent) as unknown,
        kept: s.kept === null ? undefined : (JSON.parse(s.kept) as unknown),
        error: s.error,
      })),
    };
  }
}
