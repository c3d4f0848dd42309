/** A labelled progress bar (the native element: announced by screen readers, visible in any theme). */
export function ProgressBar({
  value,
  max,
  label,
  text,
}: {
  readonly value: number;
  readonly max: number;
  readonly label: string;
  readonly text: string;
}) {
  const pct = max > 0 ? Math.min(100, Math.round((value / max) * 100)) : 0;
  return (
    <div class="progress">
      <progress value={pct} max={100} aria-label={label}>
        {pct}%
      </progress>
      <span class="progress-text">{text}</span>
    </div>
  );
}

/** A capacity bar: used of total, amber past 75 %, red past 90 %. */
export function CapacityBar({
  used,
  total,
  label,
  text,
}: {
  readonly used: number;
  readonly total: number;
  readonly label: string;
  readonly text: string;
}) {
  const pct = total > 0 ? Math.min(100, Math.round((used / total) * 100)) : 0;
  const tone = pct > 90 ? 'bad' : pct > 75 ? 'busy' : 'ok';
  return (
    // biome-ignore lint/a11y/useSemanticElements: <meter> cannot hold the styled track and its text
    <div class="capacity" role="meter" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct} aria-valuetext={text}>
      <div class="capacity-track">
        <div class={`capacity-fill capacity-${tone}`} style={{ width: `${pct}%` }} />
      </div>
      <span class="capacity-text">{text}</span>
    </div>
  );
}
