/**
 * Launch progress by instance name, fed by `instance.launch` (its steps), `instance.state` and
 * `instance.launch-failed`: the launch page shows each step as it happens.
 *
 * @example
 * const steps = useLaunch('web1'); // { steps: ['reserved', 'staged'], outcome: 'running' | … }
 */
import { useEffect, useState } from 'preact/hooks';
import { liveEvents } from './event-stream.js';

export const LAUNCH_STEPS = ['reserved', 'staged', 'layer', 'defined', 'started'] as const;

export interface LaunchProgress {
  readonly id?: string;
  readonly steps: readonly string[];
  readonly outcome?: 'running' | 'failed';
  readonly error?: string;
}

const launches = new Map<string, LaunchProgress>();
const watchers = new Set<() => void>();
let started = false;

function set(name: string, next: LaunchProgress): void {
  launches.set(name, next);
  for (const w of watchers) w();
}

export function trackLaunches(): void {
  if (started) return;
  started = true;
  liveEvents.on(['instance'], (e) => {
    const name = typeof e.data.name === 'string' ? e.data.name : undefined;
    if (!name) return;
    const prev = launches.get(name);
    const id = typeof e.data.id === 'string' ? e.data.id : prev?.id;
    if (e.type === 'instance.launch') {
      const step = String(e.data.step);
      const steps = step === 'reserved' ? [step] : [...(prev?.steps ?? []), step];
      set(name, { ...(id ? { id } : {}), steps });
    } else if (e.type === 'instance.launch-failed') {
      set(name, { ...(prev ?? { steps: [] }), outcome: 'failed', error: String(e.data.error ?? '') });
    } else if (e.type === 'instance.state' && prev && !prev.outcome && (e.data.state === 'running' || e.data.state === 'failed')) {
      set(name, { ...prev, ...(id ? { id } : {}), outcome: e.data.state, ...(e.data.error ? { error: String(e.data.error) } : {}) });
    }
  });
}

/** Forgets an earlier launch of the name (a new one starts). */
export function launchRequested(name: string): void {
  set(name, { steps: [] });
}

export function useLaunch(name: string): LaunchProgress | undefined {
  const [, tick] = useState(0);
  useEffect(() => {
    const w = () => tick((n) => n + 1);
    watchers.add(w);
    // Catch up with what changed between the first render and this subscription.
    w();
    return () => void watchers.delete(w);
  }, []);
  return launches.get(name);
}
