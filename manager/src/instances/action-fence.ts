/**
 * Keeps a heartbeat from undoing an action's answer. A heartbeat's instance states were read on the
 * host before it was sent: one that reached the manager before a stop finished still says
 * `running`, and written after the stop's answer it would make a stopped instance look running.
 * States from a heartbeat received while an action ran, or before it finished, are skipped; the
 * next heartbeat carries the settled state.
 */
export class ActionFence {
  private readonly inFlight = new Map<string, number>();
  private readonly settledAt = new Map<string, number>();

  /** Runs `action` on instance `id` with its heartbeats fenced off until it settles. */
  async around<T>(id: string, action: () => Promise<T>): Promise<T> {
    this.inFlight.set(id, (this.inFlight.get(id) ?? 0) + 1);
    try {
      return await action();
    } finally {
      const left = (this.inFlight.get(id) ?? 1) - 1;
      if (left > 0) this.inFlight.set(id, left);
      else this.inFlight.delete(id);
      this.settledAt.set(id, Date.now());
    }
  }

  /** Whether a heartbeat received at `receivedAt` (ms, this clock) may set instance `id`'s state. */
  admits(id: string, receivedAt: number): boolean {
    return !this.inFlight.has(id) && (this.settledAt.get(id) ?? -Infinity) < receivedAt;
  }

  forget(id: string): void {
    this.settledAt.delete(id);
  }
}
