/**
 * Stops a program cleanly whenever SIGTERM or SIGINT arrives, start-up included: the start-up step
 * under way finishes (an enrolment is never cut in half), then everything started so far closes,
 * newest first, and the process exits 0. Handlers are installed when this is made, before any step.
 *
 * @example
 * const stop = new GracefulStop((line) => log.info(line));
 * const app = await stop.step(() => buildApp(config), { name: 'the API', close: (a) => a.close() });
 * await stop.step(() => app.listen({ port: 8443 }));
 * stop.started();
 */
export class GracefulStop {
  private readonly closers: { readonly name: string; readonly close: () => unknown }[] = [];
  private signal: NodeJS.Signals | undefined;
  private starting = true;
  private stopping: Promise<never> | undefined;

  constructor(
    private readonly say: (line: string) => void,
    private readonly exit: (code: number) => never = (code) => process.exit(code),
    signals: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'],
    /** How long a signalled start-up step may still run before closing starts anyway (a hung libvirt). */
    private readonly stepGraceMs = 30_000,
  ) {
    for (const s of signals) process.on(s, () => this.onSignal(s));
  }

  /** What to close on the way out; closed in the reverse order of adding. */
  add(name: string, close: () => unknown): void {
    this.closers.unshift({ name, close });
  }

  /**
   * Runs one start-up step and, when it gives something to close, adds that closer first; when a
   * signal came meanwhile, stops right after the step (and never returns).
   */
  async step<T>(run: () => Promise<T>, closer?: { readonly name: string; readonly close: (value: T) => unknown }): Promise<T> {
    const value = await run();
    if (closer) this.add(closer.name, () => closer.close(value));
    if (this.signal) await this.stop();
    return value;
  }

  /** Start-up is over: a signal now stops at once. */
  started(): void {
    this.starting = false;
    if (this.signal) void this.stop();
  }

  /** Closes everything added, newest first, each even when another failed, then exits 0. */
  stop(): Promise<never> {
    this.stopping ??= (async () => {
      for (const { name, close } of this.closers) {
        try {
          await close();
        } catch (err) {
          this.say(`while closing ${name}: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      return this.exit(0);
    })();
    return this.stopping;
  }

  private onSignal(signal: NodeJS.Signals): void {
    if (this.signal) {
      this.say(`${signal}: already stopping`);
      return;
    }
    this.signal = signal;
    this.say(this.starting ? `${signal}: stopping once the start-up step under way is done` : `${signal}: stopping`);
    if (!this.starting) {
      void this.stop();
      return;
    }
    const late = setTimeout(() => {
      this.say(`the start-up step under way still runs after ${this.stepGraceMs / 1000} s; stopping anyway`);
      void this.stop();
    }, this.stepGraceMs);
    late.unref();
  }
}
