/**
 * The instance's serial console, tail end: fetched on open, on demand, and every few seconds while
 * following; control characters shown escaped (`^[`), as `storm console` shows them.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { escapeTerminal } from '../../../common/terminal-text.js';
import { api, type ApiError, toApiError } from '../api/client.js';
import type { SerialTail as SerialText } from '../../../manager/protocol/index.js';
import { bytes } from '../format.js';
import { ErrorBox } from '../ui/error-box.js';

const TAIL_BYTES = 64 * 1024;

export function SerialLog({ id, name }: { readonly id: string; readonly name: string }) {
  const [log, setLog] = useState<SerialText | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [follow, setFollow] = useState(true);
  const [loading, setLoading] = useState(false);
  const pre = useRef<HTMLPreElement>(null);

  const load = async () => {
    setLoading(true);
    try {
      setLog(await api.get<SerialText>(`/instances/${encodeURIComponent(id)}/console?bytes=${TAIL_BYTES}`));
      setError(undefined);
    } catch (err) {
      setError(toApiError(err));
    } finally {
      setLoading(false);
    }
  };

  useEffect(() => {
    void load();
    if (!follow) return;
    const t = setInterval(() => void load(), 3000);
    return () => clearInterval(t);
  }, [id, follow]);

  // Keep the newest line in view while following.
  useEffect(() => {
    if (follow && pre.current) pre.current.scrollTop = pre.current.scrollHeight;
  }, [log, follow]);

  return (
    <section class="card" aria-labelledby="console-title">
      <div class="section-head">
        <h2 id="console-title">Console log</h2>
        <div class="row-actions">
          <label class="check inline">
            <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.currentTarget.checked)} /> Follow
          </label>
          <button type="button" onClick={() => void load()} disabled={loading}>
            Refresh
          </button>
        </div>
      </div>
      <ErrorBox error={error} />
      {log ? (
        <>
          <p class="muted small">
            Last {bytes(log.text.length)} of {bytes(log.size)}
          </p>
          {/* biome-ignore lint/a11y/noNoninteractiveTabindex: the log scrolls; a keyboard user must be able to focus it to scroll */}
          <pre class="console" role="log" ref={pre} tabIndex={0} aria-label={`Console log of ${name}`}>
            {log.text ? escapeTerminal(log.text) : '(nothing written yet)'}
          </pre>
        </>
      ) : !error ? (
        <p class="muted">Loading…</p>
      ) : null}
    </section>
  );
}
