/** A state as a coloured word: green when fine, amber while changing, red when something is wrong. */
const TONE: Readonly<Record<string, 'ok' | 'busy' | 'bad' | 'idle'>> = {
  running: 'ok',
  active: 'ok',
  ready: 'ok',
  ok: 'ok',
  done: 'ok',
  launching: 'busy',
  starting: 'busy',
  restarting: 'busy',
  stopping: 'busy',
  destroying: 'busy',
  new: 'busy',
  stopped: 'idle',
  paused: 'idle',
  revoked: 'idle',
  failed: 'bad',
  crashed: 'bad',
  lost: 'bad',
  unknown: 'bad',
  unreachable: 'bad',
  degraded: 'bad',
};

export function StateBadge({ state }: { readonly state: string }) {
  return <span class={`badge badge-${TONE[state] ?? 'idle'}`}>{state}</span>;
}

/** States that need the administrator's attention. */
export const isTrouble = (state: string): boolean => TONE[state] === 'bad';
