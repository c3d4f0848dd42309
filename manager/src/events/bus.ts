/**
 * The manager's event bus: every state change and progress report is published here and fanned out
 * to server-sent-event subscribers. A ring of recent events lets a reconnecting client resume from
 * `Last-Event-ID` without missing any.
 *
 * @example
 * bus.publish('instance.state', { id, state: 'running' });
 * const off = bus.subscribe((e) => console.log(e.type), lastEventId);
 */
export interface StormEvent {
  readonly id: number;
  readonly at: string;
  readonly type: string;
  readonly data: Readonly<Record<string, unknown>>;
}

export type EventListener = (event: StormEvent) => void;

export class EventBus {
  private readonly ring: StormEvent[] = [];
  private readonly listeners = new Set<EventListener>();
  private nextId: number;

  constructor(
    private readonly capacity = 2000,
    private readonly now: () => Date = () => new Date(),
  ) {
    // Ids grow across restarts too, so a client's Last-Event-ID from before a restart is never reused.
    this.nextId = now().getTime() * 1000;
  }

  publish(type: string, data: Readonly<Record<string, unknown>>): StormEvent {
    const event: StormEvent = { id: this.nextId++, at: this.now().toISOString(), type, data };
    this.ring.push(event);
    if (this.ring.length > this.capacity) this.ring.shift();
    for (const fn of this.listeners) {
      try {
        fn(event);
      } catch {
        // A broken subscriber must not stop the others.
      }
    }
    return event;
  }

  /** Replays events after `sinceId` (when still in the ring), then delivers new ones; returns the unsubscribe. */
  subscribe(listener: EventListener, sinceId?: number): () => void {
    if (sinceId !== undefined) for (const e of this.ring) if (e.id > sinceId) listener(e);
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The most recent events, newest last. */
  recent(limit = 100, type?: string): StormEvent[] {
    const matching = type ? this.ring.filter((e) => e.type === type || e.type.startsWith(`${type}.`)) : this.ring;
    return matching.slice(-limit);
  }

  get subscriberCount(): number {
    return this.listeners.size;
  }
}
