/** The appliance network: its settings, its uplink (none or nat) and the forwards through it; add and remove forwards. */
import { useState } from 'preact/hooks';
import type { ForwardView, NetworkView, UplinkView } from '../../../manager/protocol/index.js';
import { api, type ApiError, toApiError } from '../api/client.js';
import { ago } from '../format.js';
import { useResource } from '../live/use-resource.js';
import { useConfirm } from '../ui/confirm.js';
import { ErrorBox } from '../ui/error-box.js';
import { Field } from '../ui/field.js';
import { Empty, Page } from '../ui/page.js';
import { StateBadge } from '../ui/state-badge.js';
import { useAction } from '../ui/use-action.js';

function AddForward({ onDone }: { readonly onDone: () => void }) {
  const [protocol, setProtocol] = useState<'tcp' | 'udp'>('tcp');
  const [port, setPort] = useState('');
  const [instance, setInstance] = useState('');
  const [targetPort, setTargetPort] = useState('');
  const { busy, error, run } = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    void run(async () => {
      await api.post('/network/forwards', { protocol, port: Number(port), instance: instance.trim(), targetPort: Number(targetPort) });
      setPort('');
      setTargetPort('');
      onDone();
    });
  };
  return (
    <form class="card form" onSubmit={submit} aria-labelledby="add-forward-title">
      <h2 id="add-forward-title">Open a forward</h2>
      <ErrorBox error={error} title="Not opened" />
      <div class="inline-fields wrap">
        <Field id="fw-protocol" label="Protocol">
          <select id="fw-protocol" value={protocol} onChange={(e) => setProtocol(e.currentTarget.value === 'udp' ? 'udp' : 'tcp')}>
            <option value="tcp">TCP</option>
            <option value="udp">UDP</option>
          </select>
        </Field>
        <Field id="fw-port" label="Host port" hint="where the outside connects">
          <input
            id="fw-port"
            type="number"
            required
            min={1}
            max={65535}
            step={1}
            value={port}
            onInput={(e) => setPort(e.currentTarget.value)}
            aria-describedby="fw-port-hint"
          />
        </Field>
        <Field id="fw-instance" label="Instance" hint="its name">
          <input
            id="fw-instance"
            required
            spellcheck={false}
            value={instance}
            onInput={(e) => setInstance(e.currentTarget.value)}
            aria-describedby="fw-instance-hint"
          />
        </Field>
        <Field id="fw-target" label="Instance port">
          <input
            id="fw-target"
            type="number"
            required
            min={1}
            max={65535}
            step={1}
            value={targetPort}
            onInput={(e) => setTargetPort(e.currentTarget.value)}
          />
        </Field>
      </div>
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          Open forward
        </button>
      </div>
    </form>
  );
}

function UplinkCard({ net, uplink }: { readonly net: NetworkView | undefined; readonly uplink: UplinkView }) {
  const n = net?.network;
  return (
    <article class="card" aria-labelledby="uplink-title" data-uplink={uplink.mode} data-uplink-state={uplink.state}>
      <h2 id="uplink-title">Uplink: {uplink.mode}</h2>
      <dl class="facts">
        <dt>Network</dt>
        <dd>{n ? <code>{n.cidr}</code> : <span class="muted">none (no --network)</span>}</dd>
        {n ? (
          <>
            <dt>Manager</dt>
            <dd>
              <code>{n.managerAddress}</code> (storm.local), router {n.router ? <code>{n.router}</code> : 'none'}
            </dd>
          </>
        ) : null}
        {net ? (
          <>
            <dt>Domain</dt>
            <dd>{net.domain}</dd>
          </>
        ) : null}
        <dt>Way out</dt>
        <dd>
          {uplink.mode === 'none' ? (
            <>
              No way out for guests: start the manager with <code>--uplink nat</code> to open one.
            </>
          ) : (
            <>
              <StateBadge state={uplink.state} /> masquerading <code>{uplink.network}</code> through the host's route; table{' '}
              <code>{uplink.table}</code> on <code>{uplink.bridge}</code>
            </>
          )}
        </dd>
      </dl>
      {uplink.error ? <p class="bad-text small break">{uplink.error}</p> : null}
    </article>
  );
}

export function NetworkPage() {
  const net = useResource<NetworkView>('/network', []);
  const res = useResource<UplinkView>('/network/uplink', ['uplink', 'instance']);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const ask = useConfirm();
  const uplink = res.data;
  const remove = async (f: ForwardView) => {
    const what = `${f.protocol.toUpperCase()} ${f.port}`;
    if (
      !(await ask.confirm({
        title: `Close ${what}?`,
        body: (
          <p>
            The outside no longer reaches {f.instance}:{f.targetPort} at this port.
          </p>
        ),
        action: 'Close',
      }))
    )
      return;
    setError(undefined);
    try {
      await api.delete(`/network/forwards/${f.protocol}/${f.port}`);
    } catch (err) {
      setError(toApiError(err));
    }
    await res.reload();
  };
  return (
    <Page title="Network">
      <ErrorBox error={res.error ?? net.error} />
      {res.loading && !uplink ? <Empty>Loading the uplink…</Empty> : null}
      {uplink ? <UplinkCard net={net.data} uplink={uplink} /> : null}
      {uplink?.mode === 'nat' ? <AddForward onDone={() => void res.reload()} /> : null}
      <ErrorBox error={error} />
      {uplink && uplink.forwards.length === 0 ? <Empty>No forwards: nothing from outside reaches a guest.</Empty> : null}
      {uplink?.forwards.length ? (
        <div class="table-wrap">
          <table aria-label="Forwards">
            <thead>
              <tr>
                <th scope="col">Protocol</th>
                <th scope="col">Host port</th>
                <th scope="col">Instance</th>
                <th scope="col">Address</th>
                <th scope="col">Instance port</th>
                <th scope="col">Active</th>
                <th scope="col">Opened</th>
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {uplink.forwards.map((f) => (
                <tr key={`${f.protocol}-${f.port}`} data-forward={`${f.protocol}-${f.port}`}>
                  <td>{f.protocol.toUpperCase()}</td>
                  <td>{f.port}</td>
                  <td>{f.instance}</td>
                  <td>{f.address ?? <span class="muted">none</span>}</td>
                  <td>{f.targetPort}</td>
                  <td>{f.active ? 'yes' : 'no'}</td>
                  <td>{ago(f.createdAt)}</td>
                  <td class="row-actions">
                    <button
                      type="button"
                      class="danger-quiet"
                      onClick={() => void remove(f)}
                      aria-label={`Close ${f.protocol.toUpperCase()} ${f.port}`}
                    >
                      Close
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {ask.dialog}
    </Page>
  );
}
