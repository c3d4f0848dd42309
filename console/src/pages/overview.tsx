/** Overview: what runs where and what went wrong, at a glance, with the way to fix each problem one click away. */
import type { ChannelView as Channel, HostView as Host, InstanceView as Instance } from '../../../manager/protocol/index.js';
import { allPages } from '../api/all-pages.js';
import { useResource } from '../live/use-resource.js';
import { ErrorBox } from '../ui/error-box.js';
import { Link } from '../ui/link.js';
import { Empty, Page } from '../ui/page.js';
import { isTrouble, StateBadge } from '../ui/state-badge.js';
import { mib } from '../format.js';

interface Problem {
  readonly key: string;
  readonly what: string;
  readonly state: string;
  readonly detail: string;
  readonly href: string;
}

function problems(channels: readonly Channel[], hosts: readonly Host[], instances: readonly Instance[]): Problem[] {
  return [
    ...hosts
      .filter((h) => isTrouble(h.status))
      .map((h) => ({ key: h.id, what: `Host ${h.name}`, state: h.status, detail: h.lastError ?? 'no heartbeat', href: '/hosts' })),
    ...instances
      .filter((i) => isTrouble(i.state))
      .map((i) => ({
        key: i.id,
        what: `Instance ${i.name}`,
        state: i.state,
        detail: i.lastError ?? `on ${i.host?.name ?? 'no host'}`,
        href: `/instances/${i.id}`,
      })),
    ...channels
      .filter((c) => c.status === 'failed')
      .map((c) => ({ key: c.id, what: `Channel ${c.title ?? c.url}`, state: c.status, detail: c.lastError ?? '', href: '/channels' })),
  ];
}

const allInstances = (path: string) => allPages<Instance>(path, 'instances') as Promise<{ instances: Instance[] }>;

export function OverviewPage() {
  const channels = useResource<{ channels: Channel[] }>('/channels', ['channel']);
  const hosts = useResource<{ hosts: Host[] }>('/hosts', ['host']);
  // Every instance (the API answers a page at a time): the counts and the cards are of the whole site.
  const instances = useResource<{ instances: Instance[] }>('/instances', ['instance', 'reconcile', 'host.state'], 250, allInstances);
  const c = channels.data?.channels ?? [];
  const h = hosts.data?.hosts ?? [];
  const i = instances.data?.instances ?? [];
  const trouble = problems(c, h, i);
  const running = i.filter((x) => x.state === 'running').length;
  return (
    <Page
      title="Overview"
      actions={
        <Link class="button primary" href="/launch">
          Launch…
        </Link>
      }
    >
      <ErrorBox error={channels.error ?? hosts.error ?? instances.error} />
      <div class="stats">
        <Link class="stat" href="/instances">
          <strong>{running}</strong> of {i.length} instances running
        </Link>
        <Link class="stat" href="/hosts">
          <strong>{h.filter((x) => x.status === 'ready').length}</strong> of {h.length} hosts ready
        </Link>
        <Link class="stat" href="/channels">
          <strong>{c.filter((x) => x.status === 'ok').length}</strong> of {c.length} channels fine
        </Link>
      </div>
      <section class="card" aria-labelledby="trouble-title">
        <h2 id="trouble-title">Needs attention</h2>
        {trouble.length === 0 ? (
          <p class="ok-text">Nothing is wrong.</p>
        ) : (
          <ul class="problems">
            {trouble.map((p) => (
              <li key={p.key}>
                <StateBadge state={p.state} /> <Link href={p.href}>{p.what}</Link> <span class="break">{p.detail}</span>
              </li>
            ))}
          </ul>
        )}
      </section>
      <section aria-labelledby="where-title">
        <h2 id="where-title">What runs where</h2>
        {hosts.data && h.length === 0 ? (
          <Empty>
            No host yet: <Link href="/hosts">add one</Link>.
          </Empty>
        ) : null}
        <div class="cards">
          {h.map((host) => {
            const here = i.filter((x) => x.host?.id === host.id);
            return (
              <article class="card" key={host.id} aria-label={`Host ${host.name}`}>
                <div class="section-head">
                  <h3>{host.name}</h3>
                  <StateBadge state={host.status} />
                </div>
                <p class="muted small">
                  {mib(host.freeMemoryMiB)} free of {mib(host.memoryMiB)}
                </p>
                {here.length === 0 ? (
                  <p class="muted">No instances.</p>
                ) : (
                  <ul class="plain">
                    {here.map((x) => (
                      <li key={x.id}>
                        <StateBadge state={x.state} /> <Link href={`/instances/${x.id}`}>{x.name}</Link>{' '}
                        <span class="muted small">
                          {x.appliance} {x.version}
                          {x.ip ? ` · ${x.ip}` : ''}
                        </span>
                      </li>
                    ))}
                  </ul>
                )}
              </article>
            );
          })}
        </div>
      </section>
    </Page>
  );
}
