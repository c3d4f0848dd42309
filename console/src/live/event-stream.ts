/**
 * The manager's live events for the whole console: one `GET /api/v1/events` stream (fetch, so the
 * session cookie goes with it, a 401 is seen, and every event type arrives without naming it
 * first), resumed with `Last-Event-ID` after a drop. Components subscribe by type prefix.
 *
 * @example
 * const off = liveEvents.on(['instance'], (e) => console.log(e.type, e.data.state));
 */
import { sseParser } from './sse-parser.js';

export interface LiveEvent {
  readonly id: string;
  readonly type: string;
  readonly at: string;
  readonly data: Readonly<Record<string, unknown>>;
}

export type LinkState = 'connecting' | 'live' | 'down';

/** Sent to every subscriber after a reconnect: what was missed may be more than the ring kept. */
export const RECONNECTED = 'console.reconnected';

type Listener = { readonly prefixes: readonly string[]; readonly fn: (e: LiveEvent) => void };

export const matchesType = (type: string, prefixes: readonly string[]): boolean =>
  prefixes.length === 0 || prefixes.some((p) => type === p || type.startsWith(`${p}.`));

class EventStream {
  private readonly listeners = new Set<Listener>();
  private readonly stateListeners = new Set<(s: LinkState) => void>();
  private lastId: string | undefined;
  private abort: AbortController | undefined;
  private retryMs = 1000;
  private timer: ReturnType<typeof setTimeout> | undefined;
  state: LinkState = 'down';

  on(prefixes: readonly string[], fn: (e: LiveEvent) => void): () => void {
    const l = { prefixes, fn };
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  onState(fn: (s: LinkState) => void): () => void {
    this.stateListeners.add(fn);
    return () => this.stateListeners.delete(fn);
  }

  start(onUnauthorized: () => void): void {
    if (this.abort) return;
    void this.run(onUnauthorized);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.abort?.abort();
    this.abort = undefined;
    this.setState('down');
  }

  private setState(s: LinkState): void {
    if (s === this.state) return;
    this.state = s;
    for (const fn of this.stateListeners) fn(s);
  }

  private emit(e: LiveEvent): void {
    for (const l of this.listeners) if (e.type === RECONNECTED || matchesType(e.type, l.prefixes)) l.fn(e);
  }

  private async run(onUnauthorized: () => void): Promise<void> {
    const abort = (this.abort = new AbortController());
    this.setState('connecting');
    let reconnect = true;
    try {
      const headers: Record<string, string> = { accept: 'text/event-stream' };
      if (this.lastId) headers['last-event-id'] = this.lastId;
      const res = await fetch('/api/v1/events', { headers, credentials: 'same-origin', signal: abort.signal });
      if (res.status === 401) {
        reconnect = false;
        onUnauthorized();
        return;
      }
      if (!res.ok || !res.body) throw new Error(`events: HTTP ${res.status}`);
      const wasResume = this.lastId !== undefined;
      this.setState('live');
      this.retryMs = 1000;
      if (wasResume) this.emit({ id: '', type: RECONNECTED, at: new Date().toISOString(), data: {} });
      const parse = sseParser((m) => {
        if (m.id) this.lastId = m.id;
        let data: Record<string, unknown> = {};
        try {
          data = JSON.parse(m.data) as Record<string, unknown>;
        } catch {
          data = { text: m.data };
        }
        this.emit({ id: m.id ?? '', type: m.type, at: typeof data.at === 'string' ? data.at : new Date().toISOString(), data });
      });
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        parse(value);
      }
    } catch {
      // A dropped stream or an unreachable manager: try again below.
    } finally {
      if (this.abort === abort) {
        this.abort = undefined;
        this.setState('down');
        if (reconnect && !abort.signal.aborted) {
          this.timer = setTimeout(() => this.start(onUnauthorized), this.retryMs);
          this.retryMs = Math.min(this.retryMs * 2, 15_000);
        }
      }
    }
  }
}

export const liveEvents = new EventStream();
