/** Hosts: capacity and health at a glance (a degraded host lists its failing checks and their fixes); enrol a new host with one command; revoke one. */
import { useState } from 'preact/hooks';
import { api, type ApiError, toApiError } from '../api/client.js';
import type { HostView as Host, InstanceView as Instance, TokenView } from '../../../manager/protocol/index.js';
import { ago, mib } from '../format.js';
import { useResource } from '../live/use-resource.js';
import { useConfirm } from '../ui/confirm.js';
import { ErrorBox } from '../ui/error-box.js';
import { Empty, Page } from '../ui/page.js';
import { CapacityBar } from '../ui/progress-bar.js';
import { StateBadge } from '../ui/state-badge.js';
import { EnrolHost } from './enrol-host.js';

function HostCard({ h, instances, onRevoke }: { readonly h: Host; readonly instances: number; readonly onRevoke: (h: Host) => void }) {
  const total = h.memoryMiB ?? 0;
  const used = total - (h.freeMemoryMiB ?? total);
  return (
    <article class="card host" aria-labelledby={`host-${h.id}`} data-host={h.name}>
      <div class="section-head">
        <h2 id={`host-${h.id}`}>{h.name}</h2>
        <StateBadge state={h.status} />
      </div>
      <p class="muted small break">
        {h.url} · {h.hypervisor.uri ?? 'hypervisor not reported'}
        {h.hypervisor.domainType ? ` (${h.hypervisor.domainType})` : ''}
      </p>
      {total ? (
        <CapacityBar
          used={used}
          total={total}
          label={`Memory of ${h.name}`}
          text={`memory: ${mib(used)} used of ${mib(total)}, ${mib(h.allocatedMemoryMiB)} given to instances`}
        />
      ) : (
        <p class="muted">No capacity reported yet.</p>
      )}
      <p class="small">
        {h.cpus ?? '—'} CPUs · {instances} instance{instances === 1 ? '' : 's'} · heartbeat {ago(h.lastHeartbeat)}
      </p>
      {h.certificate.notAfter && h.status !== 'revoked' ? (
        <p class="muted small">
          certificate valid until {new Date(h.certificate.notAfter).toLocaleDateString()}
          {h.certificate.renewalPending ? ' · renewed, awaiting first use' : ''}
        </p>
      ) : null}
      {h.status === 'degraded' && h.health ? (
        <ul class="small checks" aria-label={`Failing checks of ${h.name}`}>
          {h.health.checks
            .filter((c) => c.status === 'fail')
            .map((c) => (
              <li key={c.name} class="break" data-check={c.name}>
                <strong class="bad-text">{c.name}</strong>: {c.message}
                {c.fix ? <span class="muted"> — {c.fix}</span> : null}
              </li>
            ))}
        </ul>
      ) : h.lastError ? (
        <p class="bad-text small break">{h.lastError}</p>
      ) : null}
      {h.status !== 'revoked' ? (
        <div class="actions">
          <button type="button" class="danger-quiet" onClick={() => onRevoke(h)}>
            Revoke…
          </button>
        </div>
      ) : null}
    </article>
  );
}

export function HostsPage() {
  const hosts = useResource<{ hosts: Host[] }>('/hosts', ['host']);
  const instances = useResource<{ instances: Instance[] }>('/instances', ['instance']);
  const tokens = useResource<{ tokens: TokenView[] }>('/hosts/tokens', ['host.joined']);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const ask = useConfirm();
  const count = (hostId: string) => (instances.data?.instances ?? []).filter((i) => i.host?.id === hostId).length;

  const revoke = async (h: Host) => {
    const ok = await ask.confirm({
      title: `Revoke ${h.name}?`,
      body: (
        <p>
          Its certificate is revoked: the manager stops talking to it and it can never join again with that identity. Its instances become
          unknown.
        </p>
      ),
      action: `Revoke ${h.name}`,
    });
    if (!ok) return;
    setError(undefined);
    try {
      await api.delete(`/hosts/${h.id}`);
    } catch (err) {
      setError(toApiError(err));
    }
    void hosts.reload();
  };

  const list = hosts.data?.hosts ?? [];
  return (
    <Page title="Hosts">
      <EnrolHost onCreated={() => void tokens.reload()} />
      <ErrorBox error={hosts.error ?? error} />
      {hosts.data && list.length === 0 ? (
        <Empty>No host has joined yet. Create a token above and run the command on the host.</Empty>
      ) : null}
      <div class="cards">
        {list.map((h) => (
          <HostCard key={h.id} h={h} instances={count(h.id)} onRevoke={(x) => void revoke(x)} />
        ))}
      </div>
      {tokens.data?.tokens.length ? (
        <details class="card">
          <summary>Enrolment tokens ({tokens.data.tokens.length})</summary>
          <div class="table-wrap">
            <table class="compact">
              <thead>
                <tr>
                  <th scope="col">Token</th>
                  <th scope="col">Created</th>
                  <th scope="col">Expires</th>
                  <th scope="col">Used</th>
                </tr>
              </thead>
              <tbody>
                {tokens.data.tokens.map((t) => (
                  <tr key={t.id}>
                    <td>
                      <code>{t.id}</code>
                    </td>
                    <td>{ago(t.createdAt)}</td>
                    <td>{ago(t.expiresAt)}</td>
                    <td>{t.usedAt ? `${ago(t.usedAt)} by ${t.usedByHost ?? '?'}` : 'no'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </details>
      ) : null}
      {ask.dialog}
    </Page>
  );
}
