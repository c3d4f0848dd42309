/**
 * A GET of the API kept fresh: loaded on mount, reloaded (debounced) when a live event of the named
 * types arrives or the event stream reconnects. Out-of-order answers are dropped.
 *
 * @example
 * const channels = useResource<{ channels: Channel[] }>('/channels', ['channel']);
 * const all = useResource('/instances', ['instance'], 250, (p) => allPages<Instance>(p, 'instances'));
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api, type ApiError, toApiError } from '../api/client.js';
import { liveEvents } from './event-stream.js';

export interface Resource<T> {
  readonly data: T | undefined;
  readonly error: ApiError | undefined;
  readonly loading: boolean;
  reload(): Promise<void>;
}

export function useResource<T>(
  path: string | null,
  refreshOn: readonly string[] = [],
  debounceMs = 250,
  /** How the path is read: one GET, or (allPages) every page of a list. */
  load: (path: string) => Promise<T> = api.get,
): Resource<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [loading, setLoading] = useState(path !== null);
  const seq = useRef(0);

  const reload = useCallback(async () => {
    if (path === null) return;
    const mine = ++seq.current;
    setLoading(true);
    try {
      const value = await load(path);
      if (mine !== seq.current) return;
      setData(value);
      setError(undefined);
    } catch (err) {
      if (mine === seq.current) setError(toApiError(err));
    } finally {
      if (mine === seq.current) setLoading(false);
    }
  }, [path, load]);

  useEffect(() => {
    setData(undefined);
    void reload();
  }, [reload]);

  const key = refreshOn.join(',');
  useEffect(() => {
    if (!key) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const off = liveEvents.on(key.split(','), () => {
      clearTimeout(timer);
      timer = setTimeout(() => void reload(), debounceMs);
    });
    return () => {
      off();
      clearTimeout(timer);
    };
  }, [key, reload, debounceMs]);

  return { data, error, loading, reload };
}
