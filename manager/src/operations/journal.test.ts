import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { managerConfig } from '../config.js';
import { createContext, type ManagerContext } from '../context.js';
import type { Step } from './step.js';

let dir: string;
let ctx: ManagerContext;
const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

/** A small operation of the test's own: two files, each written by a step whose undo removes it. */
function fileSteps(fail: { second: boolean }) {
  const first: Step<{ path: string }> = {
    name: 'test.first-file',
    run: ({ path }) => writeFile(path, 'first'),
    undo: ({ path }) => rm(path, { force: true }),
  };
  const second: Step<{ path: string }> = {
    name: 'test.second-file',
    // It acts in part, then fails: its undo runs too, since the journal recorded it before it acted.
    run: async ({ path }) => {
      await writeFile(path, 'second');
      if (fail.second) throw new Error('the second step fails');
    },
    undo: ({ path }) => rm(path, { force: true }),
  };
  return { first, second };
}

async function open(): Promise<ManagerContext> {
  const c = await createContext(managerConfig({ data: join(dir, 'data'), logLevel: 'silent' }));
  const { first, second } = fileSteps({ second: true });
  c.journal.define(first, second);
  c.journal.defineKind({ name: 'two-files' });
  return c;
}

const operations = () =>
  ctx.db.all<{ kind: string; state: string; closed: number }>('SELECT kind, state, closed_at IS NOT NULL AS closed FROM operations');
const steps = () => ctx.db.all<{ name: string; state: string }>('SELECT name, state FROM operation_steps ORDER BY seq');
const NOTHING = {
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

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'storm-journal-'));
  ctx = await open();
});
afterEach(async () => {
  await ctx.close();
  await rm(dir, { recursive: true, force: true });
});

describe('an operation of two steps, the second failing', () => {
  it('undoes the first step, closes the journal, and leaves reconcile nothing to do', async () => {
    const { first, second } = fileSteps({ second: true });
    const [a, b] = [join(dir, 'a'), join(dir, 'b')];
    await expect(
      ctx.journal.perform({ kind: 'two-files' }, async (op) => {
        await op.run(first, { path: a });
        expect(await exists(a)).toBe(true);
        await op.run(second, { path: b });
      }),
    ).rejects.toThrow('the second step fails');

    expect([await exists(a), await exists(b)]).toEqual([false, false]);
    expect(await operations()).toEqual([{ kind: 'two-files', state: 'undone', closed: 1 }]);
    expect(await steps()).toEqual([
      { name: 'test.first-file', state: 'undone' },
      { name: 'test.second-file', state: 'undone' },
    ]);
    expect(await ctx.journal.interrupted()).toEqual([]);
    expect(await ctx.reconciler.run()).toEqual(NOTHING);
  });

  it('closes as done when both steps succeed, with nothing undone', async () => {
    const { first, second } = fileSteps({ second: false });
    const [a, b] = [join(dir, 'a'), join(dir, 'b')];
    const out = await ctx.journal.perform({ kind: 'two-files' }, async (op) => {
      await op.run(first, { path: a });
      await op.run(second, { path: b });
      return 'ok';
    });
    expect(out).toBe('ok');
    expect([await exists(a), await exists(b)]).toEqual([true, true]);
    expect(await operations()).toEqual([{ kind: 'two-files', state: 'done', closed: 1 }]);
    expect(await steps()).toEqual([
      { name: 'test.first-file', state: 'done' },
      { name: 'test.second-file', state: 'done' },
    ]);
  });

  it("after a crash between the steps, the next start's reconcile undoes it from the journal alone", async () => {
    const a = join(dir, 'a');
    // What a process killed after the first step leaves: the operation open, the first step done.
    const id = await ctx.journal.store.open({ kind: 'two-files' });
    const seq = await ctx.journal.store.startStep(ctx.db, id, 'test.first-file', { path: a });
    await writeFile(a, 'first');
    await ctx.journal.store.doneStep(ctx.db, id, seq, undefined);
    await ctx.close();

    ctx = await open();
    expect((await ctx.journal.interrupted()).map((op) => op.kind)).toEqual(['two-files']);
    const report = await ctx.reconciler.run();
    expect(report).toEqual({ ...NOTHING, operationsUndone: [`${id}: two-files`] });
    expect(await exists(a)).toBe(false);
    expect(await operations()).toEqual([{ kind: 'two-files', state: 'undone', closed: 1 }]);
    expect(await ctx.reconciler.run()).toEqual(NOTHING);
  });

  it('refuses a step the journal could not undo after a restart (not defined)', async () => {
    const stray: Step<{ n: number }> = { name: 'test.stray', run: async () => undefined };
    await expect(ctx.journal.perform({ kind: 'two-files' }, (op) => op.run(stray, { n: 1 }))).rejects.toThrow(
      'step test.stray is not defined in the journal',
    );
    expect(await operations()).toEqual([{ kind: 'two-files', state: 'undone', closed: 1 }]);
  });
});

describe('an operation with a point of no return', () => {
  it('a failure after it leaves the operation open, nothing undone; reconcile resumes it forward', async () => {
    const { first, second } = fileSteps({ second: true });
    const [a, b] = [join(dir, 'a'), join(dir, 'b')];
    const resumed: string[] = [];
    ctx.journal.defineKind({
      name: 'one-way',
      noReturnAfter: first.name,
      resume: async (op) => {
        resumed.push(op.steps.map((s) => `${s.name}:${s.state}`).join(' '));
        return true;
      },
    });
    await expect(
      ctx.journal.perform({ kind: 'one-way' }, async (op) => {
        await op.run(first, { path: a });
        await op.run(second, { path: b });
      }),
    ).rejects.toThrow('the second step fails');
    expect(await exists(a)).toBe(true);
    expect((await operations()).map((o) => o.state)).toEqual(['running']);
    const [open] = await ctx.journal.interrupted();
    expect(await ctx.journal.recover(open!)).toBe('finished');
    expect(resumed).toEqual(['test.first-file:done test.second-file:started']);
    expect((await operations()).map((o) => o.state)).toEqual(['done']);
  });

  it('a failure before it is undone as usual', async () => {
    const { first } = fileSteps({ second: false });
    ctx.journal.defineKind({ name: 'one-way', noReturnAfter: 'test.second-file' });
    const a = join(dir, 'a');
    await expect(
      ctx.journal.perform({ kind: 'one-way' }, async (op) => {
        await op.run(first, { path: a });
        throw new Error('before the point');
      }),
    ).rejects.toThrow('before the point');
    expect(await exists(a)).toBe(false);
    expect((await operations()).map((o) => o.state)).toEqual(['undone']);
  });
});

describe('host reports and the operations of an instance', () => {
  afterEach(() => vi.useRealTimers());

  it('are fenced off while one runs, and when read before it ended', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(10_000);
    const { first } = fileSteps({ second: false });
    let during: boolean | undefined;
    await ctx.journal.perform({ kind: 'two-files', instanceId: 'i-1' }, async (op) => {
      await op.run(first, { path: join(dir, 'a') });
      during = ctx.journal.quietSince('i-1', Date.now());
      vi.setSystemTime(12_000);
    });
    expect(during).toBe(false);
    // A heartbeat received at 11 s says what the host read mid-operation: stale.
    expect(ctx.journal.quietSince('i-1', 11_000)).toBe(false);
    expect(ctx.journal.quietSince('i-1', 12_001)).toBe(true);
    expect(ctx.journal.quietSince('i-2', 11_000)).toBe(true);
  });
});

describe('an operation of this process that ends while reconcile reads it', () => {
  it('is left alone: recover finds it closed and undoes nothing', async () => {
    const { first } = fileSteps({ second: false });
    const a = join(dir, 'a');
    let seen: Awaited<ReturnType<typeof ctx.journal.store.get>>;
    await ctx.journal.perform({ kind: 'two-files' }, async (op) => {
      await op.run(first, { path: a });
      // What a reconcile pass read while the operation ran: open, one step taken.
      seen = await ctx.journal.store.get(op.id);
    });
    expect(seen!.state).toBe('running');
    expect(await ctx.journal.recover(seen!)).toBe('closed');
    expect(await exists(a)).toBe(true);
    expect((await operations()).map((o) => o.state)).toEqual(['done']);
  });
});
