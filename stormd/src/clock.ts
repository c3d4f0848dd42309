/**
 * Time as stormd sees it, injected so tests of timeouts can use a fake clock (the one mock we allow).
 *
 * @example
 * await waitFor(() => driver.state(name).then((s) => s === 'shutoff'), { timeoutMs: 5000 }); // true or false
 */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export interface WaitOptions {
  readonly timeoutMs: number;
  readonly intervalMs?: number;
  readonly clock?: Clock;
}

/** Polls `check` until it answers true (→ true) or `timeoutMs` passes (→ false); checks at least once. */
export async function waitFor(check: () => Promise<boolean>, opts: WaitOptions): Promise<boolean> {
  const clock = opts.clock ?? systemClock;
  const interval = opts.intervalMs ?? 250;
  const deadline = clock.now() + opts.timeoutMs;
  for (;;) {
    if (await check()) return true;
    const left = deadline - clock.now();
    if (left <= 0) return false;
    await clock.sleep(Math.min(interval, left));
  }
}
