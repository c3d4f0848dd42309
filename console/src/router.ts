/**
 * History-API routing over the manager's console page list: `useRoute()` gives the current path and
 * query, `navigate()` moves, `<Link>` (ui/link.tsx) makes ordinary links that do not reload.
 *
 * @example
 * navigate('/instances/i-0123456789');
 * const { page, rest, query } = useRoute(); // 'instances', ['i-0123456789'], URLSearchParams
 */
import { useEffect, useState } from 'preact/hooks';
import { CONSOLE_PAGES, type ConsolePage } from '../../common/console-pages.js';

export interface Route {
  /** The first path segment when it is a console page; '' for the overview; null for an unknown path. */
  readonly page: ConsolePage | '' | null;
  readonly rest: readonly string[];
  readonly query: URLSearchParams;
  readonly path: string;
}

const listeners = new Set<() => void>();

export function parseRoute(pathname: string, search: string): Route {
  const parts = pathname
    .split('/')
    .filter(Boolean)
    .map((p) => decodeURIComponent(p));
  const first = parts[0] ?? '';
  const page = first === '' ? '' : (CONSOLE_PAGES as readonly string[]).includes(first) ? (first as ConsolePage) : null;
  return { page, rest: parts.slice(1), query: new URLSearchParams(search), path: pathname + search };
}

export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  if (to === location.pathname + location.search) return;
  if (opts.replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  for (const l of listeners) l();
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.pathname, location.search));
  useEffect(() => {
    const update = () => setRoute(parseRoute(location.pathname, location.search));
    listeners.add(update);
    addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      removeEventListener('popstate', update);
    };
  }, []);
  return route;
}
