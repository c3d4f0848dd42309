/**
 * Polling for tests and benchmarks: call `probe` until it gives a value (not undefined), or fail
 * naming what was awaited.
 *
 * @example
 * const host = await pollUntil('host-a ready', async () => (await hosts()).find((h) => h.status === 'ready'), { timeoutMs: 30_000 });
 */
export async function pollUntil<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  opts: { timeoutMs?: number; everyMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, opts.everyMs ?? 200));
  }
}
