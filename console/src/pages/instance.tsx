/** One instance: state live, where it runs and how it is reached, its layer stack, the agent's report, its serial terminal and console log, actions. */
import type { InstanceView as Instance } from '../../../manager/protocol/index.js';
import { ago, bytes, mib, shortSha } from '../format.js';
import { useResource } from '../live/use-resource.js';
import { ErrorBox } from '../ui/error-box.js';
import { Link } from '../ui/link.js';
import { Empty, Page } from '../ui/page.js';
import { StateBadge } from '../ui/state-badge.js';
import { SerialLog } from './serial-log.js';
import { SerialTerminal } from './serial-terminal.js';
import { InstanceActions } from './instance-actions.js';
import { Lifecycle } from './lifecycle.js';

function LayerStack({ inst }: { readonly inst: Instance }) {
  // Drawn top to bottom as they stack: the writable instance layer on top.
  const layers = [...inst.layers].reverse();
  return (
    <ol class="stack" aria-label="Layer stack, top first" reversed>
      {layers.map((l, i) => (
        <li key={`${l.kind}-${i}`} class={`stack-layer stack-${l.kind}${l.writable ? ' stack-rw' : ''}`}>
          <strong>{l.kind}</strong>{' '}
          <span class="muted small">
            {l.writable
              ? 'writable, this instance only'
              : l.kind === 'frozen'
                ? `frozen by a checkpoint (${l.id ?? ''}), this instance only`
                : 'read-only, shared'}
          </span>
          <span class="stack-meta">
            {l.sha256 ? <code title={l.sha256}>{shortSha(l.sha256)}</code> : null} {l.size !== null ? bytes(l.size) : ''}
          </span>
        </li>
      ))}
    </ol>
  );
}

export function InstancePage({ id }: { readonly id: string }) {
  const res = useResource<Instance>(`/instances/${encodeURIComponent(id)}`, ['instance', 'reconcile', 'host.state']);
  const inst = res.data;
  if (res.error?.status === 404) {
    return (
      <Page title={id}>
        <Empty>
          This instance does not exist (any more). <Link href="/instances">All instances</Link>.
        </Empty>
      </Page>
    );
  }
  if (!inst) return <Page title={id}>{res.error ? <ErrorBox error={res.error} /> : <Empty>Loading…</Empty>}</Page>;
  return (
    <Page title={inst.name} actions={<InstanceActions inst={inst} onDone={() => void res.reload()} after="list" />}>
      <ErrorBox error={res.error} />
      <div class="grid-2">
        <section class="card" aria-labelledby="about-title">
          <h2 id="about-title">Where and how</h2>
          <dl class="facts">
            <dt>State</dt>
            <dd>
              <StateBadge state={inst.state} />{' '}
              <span class="muted small">
                wanted {inst.desired}, changed {ago(inst.updatedAt)}
              </span>
            </dd>
            <dt>Appliance</dt>
            <dd>
              {inst.appliance} {inst.version}
            </dd>
            <dt>Host</dt>
            <dd>{inst.host ? <Link href="/hosts">{inst.host.name}</Link> : '—'}</dd>
            <dt>Address</dt>
            <dd>
              <code>{inst.ip ?? 'none yet'}</code> <span class="muted small">MAC {inst.mac}</span>
            </dd>
            <dt>Name</dt>
            <dd>{inst.fqdn ?? inst.name}</dd>
            <dt>Size</dt>
            <dd>
              {mib(inst.memoryMiB)}, {inst.vcpus} vCPU
            </dd>
            <dt>Parameters</dt>
            <dd>
              {Object.keys(inst.params).length
                ? Object.entries(inst.params).map(([k, v]) => (
                    <div key={k}>
                      <code>{k}</code> = <code>{JSON.stringify(v)}</code>
                    </div>
                  ))
                : '—'}
            </dd>
            {inst.lastError ? (
              <>
                <dt>Last error</dt>
                <dd class="bad-text break">{inst.lastError}</dd>
              </>
            ) : null}
          </dl>
        </section>
        <section class="card" aria-labelledby="stack-title">
          <h2 id="stack-title">Layers</h2>
          <LayerStack inst={inst} />
        </section>
      </div>
      <Lifecycle inst={inst} onDone={() => void res.reload()} />
      <section class="card" aria-labelledby="agent-title">
        <h2 id="agent-title">Guest agent</h2>
        {inst.guestStatus ? (
          <pre class="json">{JSON.stringify(inst.guestStatus, null, 2)}</pre>
        ) : (
          <p class="muted">The guest agent has not reported yet.</p>
        )}
      </section>
      <SerialTerminal id={inst.id} name={inst.name} running={inst.state === 'running'} />
      <SerialLog id={inst.id} name={inst.name} />
    </Page>
  );
}
