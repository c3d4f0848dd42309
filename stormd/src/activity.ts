/**
 * What stormd is doing right now, in words (`GET /v1/activity`): requests being answered and the
 * long steps inside them (a define waiting on libvirt, a layer being fetched). The manager asks
 * when one of its calls runs long, so its error can say what the host was busy with.
 *
 * @example
 * const activity = new Activity();
 * await activity.run(`defining domain ${name} in libvirt`, () => driver.define(spec));
 * activity.list(); // [{ what: 'defining domain storm-i-1 in libvirt', forMs: 31012 }] while it runs
 */
import type { HostActivity } from '../protocol.js';
import { type Clock, systemClock } from './clock.js';

export class Activity {
  private readonly tasks = new Map<number, { readonly what: () => string; readonly since: number }>();
  private next = 0;

  constructor(private readonly clock: Clock = systemClock) {}

  /** Runs `fn` listed as `what` (a function for a description that changes, e.g. bytes fetched). */
  async run<T>(what: string | (() => string), fn: () => Promise<T>): Promise<T> {
    const end = this.begin(what);
    try {
      return await fn();
    } finally {
      end();
    }
  }

  /** Lists `what` until the returned function is called. */
  begin(what: string | (() => string)): () => void {
    const id = this.next++;
    this.tasks.set(id, { what: typeof what === 'string' ? () => what : what, since: this.clock.now() });
    return () => void this.tasks.delete(id);
  }

  /** Everything under way, longest first. */
  list(): HostActivity {
    const now = this.clock.now();
    const tasks = [...this.tasks.values()].map((t) => ({ what: t.what(), forMs: now - t.since })).sort((a, b) => b.forMs - a.forMs);
    return { tasks };
  }
}
