/** The launch of one instance, step by step as the manager reports it. */
import { LAUNCH_STEPS, useLaunch } from '../live/launches.js';
import { ErrorBox } from '../ui/error-box.js';
import { Link } from '../ui/link.js';

const LABELS: Readonly<Record<string, string>> = {
  reserved: 'Name, address and host reserved',
  staged: 'Layers staged on the host',
  layer: 'Instance layer created',
  defined: 'Domain defined',
  started: 'Domain started',
};

/** `MGR_ERR_X: message` (how the manager reports a failed step) into code and message. */
export function splitError(text: string): { code: string; message: string } {
  const m = /^([A-Z]+_ERR_[A-Z0-9_]+): ([\s\S]*)$/.exec(text);
  return m ? { code: m[1]!, message: m[2]! } : { code: 'MGR_ERR_INTERNAL', message: text };
}

export function LaunchSteps({ name }: { readonly name: string }) {
  const launch = useLaunch(name);
  const done = new Set(launch?.steps ?? []);
  return (
    <section class="card" aria-labelledby="steps-title">
      <h2 id="steps-title">Launching {name}</h2>
      <ol class="steps" aria-live="polite">
        {LAUNCH_STEPS.map((s) => (
          <li key={s} class={done.has(s) ? 'step-done' : 'step-todo'}>
            {LABELS[s]}
          </li>
        ))}
        <li class={launch?.outcome === 'running' ? 'step-done' : 'step-todo'}>Running</li>
      </ol>
      {launch?.outcome === 'failed' ? <ErrorBox error={splitError(launch.error ?? '')} title="Launch failed" /> : null}
      {launch?.id ? <Link href={`/instances/${launch.id}`}>Open {name}</Link> : null}
    </section>
  );
}
