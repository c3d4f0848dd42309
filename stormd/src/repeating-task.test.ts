import { describe, expect, it } from 'vitest';
import { waitFor } from './clock.js';
import { RepeatingTask } from './repeating-task.js';

describe('RepeatingTask', () => {
  it('runs at once, then after the wait each round answers, and stop waits for the round in flight', async () => {
    const rounds: number[] = [];
    let release: () => void = () => undefined;
    const task = new RepeatingTask(async () => {
      rounds.push(Date.now());
      if (rounds.length === 3) await new Promise<void>((r) => (release = r));
      return rounds.length === 1 ? 150 : 10;
    });
    task.start();
    task.start(); // a second start must not add a second loop
    expect(await waitFor(async () => rounds.length === 3, { timeoutMs: 5000, intervalMs: 5 })).toBe(true);
    expect(rounds[1]! - rounds[0]!).toBeGreaterThanOrEqual(140);
    let stopped = false;
    const stopping = task.stop().then(() => (stopped = true));
    await new Promise((r) => setTimeout(r, 30));
    expect(stopped).toBe(false); // round 3 is still running
    release();
    await stopping;
    await new Promise((r) => setTimeout(r, 50));
    expect(rounds).toHaveLength(3); // nothing after stop
  });
});
