/**
 * Pull progress of every appliance version, fed by `pull.*` events (so a pull started from the CLI
 * or another tab shows too): bytes, total, rate and ETA while running, then done or failed.
 *
 * @example
 * const pull = usePull('hello-web', '1.0.0'); // undefined until a pull of it starts
 */
import { useEffect, useState } from 'preact/hooks';
import { liveEvents } from './event-stream.js';

export interface PullState {
  readonly phase: 'running' | 'done' | 'failed';
  readonly bytes: number;
  readonly total: number;
  readonly rate: number;
  readonly etaSeconds: number | null;
  readonly startedAt: number;
  readonly finishedAt?: number;
  readonly code?: string;
  readonly error?: string;
}

const pulls = new Map<string, PullState>();
const watchers = new Set<() => void>();
const key = (name: unknown, version: unknown) => `${String(name)}@${String(version)}`;
const num = (v: unknown, fallback = 0) => (typeof v === 'number' && Number.isFinite(v) ? v : fallback);

function set(k: string, next: PullState): void {
  pulls.set(k, next);
  for (const w of watchers) w();
}

let started = false;
/** Subscribes the store to the event stream once (the app calls it at start). */
export function trackPulls(): void {
  if (started) return;
  started = true;
  liveEvents.on(['pull'], (e) => {
    const k = key(e.data.name, e.data.version);
    const prev = pulls.get(k);
    switch (e.type) {
      case 'pull.started':
        set(k, { phase: 'running', bytes: 0, total: num(e.data.total), rate: 0, etaSeconds: null, startedAt: Date.now() });
        break;
      case 'pull.progress':
        set(k, {
          ...(prev ?? { startedAt: Date.now() }),
          phase: 'running',
          bytes: num(e.data.bytes),
          total: num(e.data.total),
          rate: num(e.data.rate),
          etaSeconds: typeof e.data.etaSeconds === 'number' ? e.data.etaSeconds : null,
        });
        break;
      case 'pull.completed':
        set(k, {
          ...(prev ?? { startedAt: Date.now(), rate: 0 }),
          phase: 'done',
          bytes: num(e.data.total),
          total: num(e.data.total),
          etaSeconds: 0,
          finishedAt: Date.now(),
        });
        break;
      case 'pull.failed':
        set(k, {
          ...(prev ?? { bytes: 0, total: 0, rate: 0, startedAt: Date.now() }),
          phase: 'failed',
          etaSeconds: null,
          finishedAt: Date.now(),
          code: String(e.data.code ?? ''),
          error: String(e.data.error ?? ''),
        });
        break;
    }
  });
}

/** Marks a pull as starting before its first event (the button answers at once). */
export function pullRequested(name: string, version: string, total: number): void {
  const k = key(name, version);
  if (pulls.get(k)?.phase !== 'running') set(k, { phase: 'running', bytes: 0, total, rate: 0, etaSeconds: null, startedAt: Date.now() });
}

export function pullFailed(name: string, version: string, code: string, error: string): void {
  const k = key(name, version);
  const prev = pulls.get(k) ?? { bytes: 0, total: 0, rate: 0, startedAt: Date.now() };
  set(k, { ...prev, phase: 'failed', etaSeconds: null, code, error, finishedAt: Date.now() });
}

export function usePull(name: string, version: string): PullState | undefined {
  const [, tick] = useState(0);
  useEffect(() => {
    const w = () => tick((n) => n + 1);
    watchers.add(w);
    // Catch up with what changed between the first render and this subscription.
    w();
    return () => void watchers.delete(w);
  }, []);
  return pulls.get(key(name, version));
}
