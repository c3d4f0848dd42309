/**
 * A background loop on a timer: `run` does one round and answers how long to wait before the next;
 * it handles its own errors (a rejection ends the loop). `stop` cancels the wait and lets a round
 * in flight finish. The heartbeat and certificate renewal
 * are two of these.
 *
 * @example
 * const task = new RepeatingTask(async () => ((await beat()) ? 10_000 : 60_000), { unref: false });
 * task.start();
 * await task.stop();
 */
export class RepeatingTask {
  private timer: NodeJS.Timeout | undefined;
  private inflight: Promise<void> | undefined;
  private stopped = true;

  /** `unref`: a loop that must not keep the process alive on its own. */
  constructor(
    private readonly run: () => Promise<number>,
    private readonly opts: { unref?: boolean } = {},
  ) {}

  /** Starts with a round right away; a second start is a no-op. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.inflight;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.inflight = this.run()
        .then(
          (next) => this.schedule(next),
          () => undefined,
        )
        .finally(() => {
          this.inflight = undefined;
        });
    }, delayMs);
    if (this.opts.unref) this.timer.unref();
  }
}
