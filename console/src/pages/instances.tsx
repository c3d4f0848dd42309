/**
 * Instances: live state, host, address and name, appliance; open one for its layers, agent status and
 * console. A page of 100 at a time, oldest first (`?limit`, the cursor): a live refresh of a site of
 * 10,000 fetches one page, not all of them.
 */
import { useState } from 'preact/hooks';
import type { InstanceView as Instance } from '../../../manager/protocol/index.js';
import { useResource } from '../live/use-resource.js';
import { ErrorBox } from '../ui/error-box.js';
import { Link } from '../ui/link.js';
import { Empty, Page } from '../ui/page.js';
import { StateBadge } from '../ui/state-badge.js';

export const INSTANCES_PAGE = 100;

export function InstancesPage() {
  // The cursors of the pages walked so far: the last one is the page shown, none the first page.
  const [cursors, setCursors] = useState<readonly string[]>([]);
  const cursor = cursors.at(-1);
  const res = useResource<{ instances: Instance[]; next?: string }>(
    `/instances?limit=${INSTANCES_PAGE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    ['instance', 'reconcile', 'host.state'],
  );
  const list = res.data?.instances ?? [];
  const next = res.data?.next;
  const first = cursors.length * INSTANCES_PAGE + 1;
  return (
    <Page
      title="Instances"
      actions={
        <Link class="button primary" href="/launch">
          Launch…
        </Link>
      }
    >
      <ErrorBox error={res.error} />
      {res.loading && !res.data ? <Empty>Loading instances…</Empty> : null}
      {res.data && list.length === 0 ? (
        <Empty>
          Nothing runs yet. <Link href="/launch">Launch an appliance</Link>.
        </Empty>
      ) : null}
      {list.length ? (
        <div class="table-wrap">
          <table>
            <caption class="sr-only">Instances</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">State</th>
                <th scope="col">Appliance</th>
                <th scope="col">Host</th>
                <th scope="col">Address</th>
                <th scope="col">Problem</th>
              </tr>
            </thead>
            <tbody>
              {list.map((i) => (
                <tr key={i.id} data-instance={i.name}>
                  <td>
                    <Link href={`/instances/${i.id}`}>
                      <strong>{i.name}</strong>
                    </Link>
                    {i.fqdn ? <div class="muted small">{i.fqdn}</div> : null}
                  </td>
                  <td>
                    <StateBadge state={i.state} />
                    {i.desired === 'stopped' && i.state !== 'stopped' ? <span class="muted small"> (to stop)</span> : null}
                  </td>
                  <td>
                    {i.appliance} <span class="muted">{i.version}</span>
                  </td>
                  <td>{i.host?.name ?? '—'}</td>
                  <td>
                    <code>{i.ip ?? '—'}</code>
                    <div class="muted small">{i.mac}</div>
                  </td>
                  <td class="break">{i.lastError ? <span class="bad-text">{i.lastError}</span> : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {cursors.length || next ? (
        <nav class="pager" aria-label="Pages of instances">
          <span class="muted">
            {first}–{first + list.length - 1}, oldest first
          </span>{' '}
          <button type="button" disabled={!cursors.length} onClick={() => setCursors(cursors.slice(0, -1))}>
            ← Previous {INSTANCES_PAGE}
          </button>{' '}
          <button type="button" disabled={!next} onClick={() => next && setCursors([...cursors, next])}>
            Next {INSTANCES_PAGE} →
          </button>
        </nav>
      ) : null}
    </Page>
  );
}
