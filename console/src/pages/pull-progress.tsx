/** A pull as the administrator watches it: bar, bytes of total, rate, time left; then done or the error. */
import { bytes, duration, rate } from '../format.js';
import type { PullState } from '../live/pulls.js';
import { ErrorBox } from '../ui/error-box.js';
import { ProgressBar } from '../ui/progress-bar.js';

export function PullProgress({ name, version, pull }: { readonly name: string; readonly version: string; readonly pull: PullState }) {
  const label = `Pull of ${name} ${version}`;
  if (pull.phase === 'failed')
    return <ErrorBox error={{ code: pull.code || 'MGR_ERR_INTERNAL', message: pull.error ?? 'the pull failed' }} title="Pull failed" />;
  const text =
    pull.phase === 'done'
      ? `Pulled ${bytes(pull.total)}${pull.finishedAt ? ` in ${duration((pull.finishedAt - pull.startedAt) / 1000)}` : ''}`
      : `${bytes(pull.bytes)} of ${bytes(pull.total)}${pull.rate ? ` · ${rate(pull.rate)}` : ''}${pull.etaSeconds !== null ? ` · ${duration(pull.etaSeconds)} left` : ''}`;
  return (
    <div class={`pull pull-${pull.phase}`}>
      <ProgressBar value={pull.phase === 'done' ? 1 : pull.bytes} max={pull.phase === 'done' ? 1 : pull.total} label={label} text={text} />
    </div>
  );
}
