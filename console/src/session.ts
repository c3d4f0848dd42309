/**
 * Who is logged in: asks `GET /api/v1/session` at start, logs in and out, and turns any 401 into
 * "logged out" (the event stream stops, the login page shows, the page asked for is kept).
 *
 * @example
 * const s = useSession(); // { state: 'in', user: 'admin' } …
 * await logIn('admin', password);
 */
import { useEffect, useState } from 'preact/hooks';
import { api, type ApiError, setCsrfToken, setUnauthorizedHandler, toApiError } from './api/client.js';
import type { SessionView as SessionInfo } from '../../manager/protocol/index.js';
import { liveEvents } from './live/event-stream.js';

export type SessionState =
  | { readonly state: 'checking' }
  | { readonly state: 'out'; readonly ended?: boolean; readonly error?: ApiError }
  | { readonly state: 'in'; readonly user: string };

let current: SessionState = { state: 'checking' };
const watchers = new Set<(s: SessionState) => void>();

function set(next: SessionState): void {
  current = next;
  if (next.state === 'in') liveEvents.start(ended);
  else liveEvents.stop();
  for (const w of watchers) w(next);
}

function ended(): void {
  if (current.state === 'in') set({ state: 'out', ended: true });
}

function accept(info: SessionInfo): void {
  setCsrfToken(info.csrfToken);
  set({ state: 'in', user: info.username });
}

export async function checkSession(): Promise<void> {
  setUnauthorizedHandler(ended);
  try {
    accept(await api.get<SessionInfo>('/session'));
  } catch (err) {
    const e = toApiError(err);
    set(e.status === 401 ? { state: 'out' } : { state: 'out', error: e });
  }
}

export async function logIn(username: string, password: string): Promise<void> {
  accept(await api.post<SessionInfo>('/session', { username, password }));
}

export async function logOut(): Promise<void> {
  try {
    await api.delete('/session');
  } finally {
    setCsrfToken(null);
    set({ state: 'out' });
  }
}

export function useSession(): SessionState {
  const [s, setS] = useState(current);
  useEffect(() => {
    watchers.add(setS);
    setS(current);
    return () => void watchers.delete(setS);
  }, []);
  return s;
}
