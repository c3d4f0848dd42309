/** Events: the manager's live feed (recent history first), filterable by type, pausable. */
import { useEffect, useState } from 'preact/hooks';
import type { StormEvent as RecentEvent } from '../../../manager/protocol/index.js';
import { liveEvents, matchesType, RECONNECTED } from '../live/event-stream.js';
import { useResource } from '../live/use-resource.js';
import { ErrorBox } from '../ui/error-box.js';
import { Empty, Page } from '../ui/page.js';

const KEEP = 500;
const FILTERS = ['', 'instance', 'pull', 'channel', 'host', 'reconcile'];

interface Row {
  readonly id: string;
  readonly at: string;
  readonly type: string;
  readonly data: Readonly<Record<string, unknown>>;
}

// Digests are shortened: twelve hex digits identify a layer for a person.
const shown = (v: unknown) => (typeof v === 'string' ? (/^[0-9a-f]{64}$/.test(v) ? v.slice(0, 12) : v) : JSON.stringify(v));
const summary = (data: Readonly<Record<string, unknown>>) =>
  Object.entries(data)
    .filter(([k]) => k !== 'at')
    .map(([k, v]) => `${k}=${shown(v)}`)
    .join('  ');

export function EventsPage() {
  const recent = useResource<{ events: RecentEvent[] }>('/events/recent?limit=200');
  const [rows, setRows] = useState<Row[]>([]);
  const [filter, setFilter] = useState('');
  const [paused, setPaused] = useState(false);
  const [progress, setProgress] = useState(false);

  useEffect(() => {
    if (!recent.data) return;
    const history = recent.data.events.map((e) => ({ id: String(e.id), at: e.at, type: e.type, data: e.data }));
    // Live events may have arrived before the history: merge by id, newest first.
    setRows((live) => {
      const byId = new Map([...history, ...live].map((r) => [r.id, r]));
      return [...byId.values()].sort((a, b) => Number(b.id) - Number(a.id)).slice(0, KEEP);
    });
  }, [recent.data]);
  useEffect(() => {
    if (paused) return;
    return liveEvents.on([], (e) => {
      if (e.type === RECONNECTED) return;
      setRows((prev) =>
        prev.some((r) => r.id === e.id) ? prev : [{ id: e.id, at: e.at, type: e.type, data: e.data }, ...prev].slice(0, KEEP),
      );
    });
  }, [paused]);

  const visible = rows.filter((r) => matchesType(r.type, filter ? [filter] : []) && (progress || !r.type.endsWith('.progress')));
  return (
    <Page title="Events">
      <div class="inline-fields">
        <label>
          Show
          <select value={filter} onChange={(e) => setFilter(e.currentTarget.value)}>
            {FILTERS.map((f) => (
              <option key={f} value={f}>
                {f ? `${f}.*` : 'everything'}
              </option>
            ))}
          </select>
        </label>
        <label class="check inline">
          <input type="checkbox" checked={progress} onChange={(e) => setProgress(e.currentTarget.checked)} /> Progress events
        </label>
        <button type="button" onClick={() => setPaused(!paused)} aria-pressed={paused}>
          {paused ? 'Resume' : 'Pause'}
        </button>
      </div>
      <ErrorBox error={recent.error} />
      {recent.data && visible.length === 0 ? <Empty>No events yet.</Empty> : null}
      <ol class="feed" aria-label="Events, newest first">
        {visible.map((r) => (
          <li key={r.id} class={/fail|lost|orphan/.test(r.type) || r.data.state === 'failed' ? 'feed-bad' : ''}>
            <time dateTime={r.at}>{new Date(r.at).toLocaleTimeString()}</time> <code class="feed-type">{r.type}</code>{' '}
            <span class="feed-data break">{summary(r.data)}</span>
          </li>
        ))}
      </ol>
    </Page>
  );
}
