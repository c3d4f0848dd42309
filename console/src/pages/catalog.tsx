/** Catalog: every appliance and version, its layers with sizes and cache state; pull with live progress; launch; import a disk image. */
import { useState } from 'preact/hooks';
import { api, toApiError } from '../api/client.js';
import type { ApplianceView as Appliance } from '../../../manager/protocol/index.js';
import { bytes, mib } from '../format.js';
import { useResource } from '../live/use-resource.js';
import { ErrorBox } from '../ui/error-box.js';
import { Link } from '../ui/link.js';
import { Empty, Page } from '../ui/page.js';
import { ImageImportForm } from './image-import.js';
import { PullProgress } from './pull-progress.js';
import { pullFailed, pullRequested, usePull } from '../live/pulls.js';
import { shortSha } from '../format.js';
import { compareVersionsDesc } from '../versions.js';

function Layers({ a }: { readonly a: Appliance }) {
  return (
    <details>
      <summary>
        {a.layers.length} files, {bytes(a.size)}
      </summary>
      <div class="table-wrap">
        <table class="compact">
          <thead>
            <tr>
              <th scope="col">Role</th>
              <th scope="col">Kind</th>
              <th scope="col">sha256</th>
              <th scope="col" class="num">
                Size
              </th>
              <th scope="col">Cached</th>
            </tr>
          </thead>
          <tbody>
            {a.layers.map((l) => (
              <tr key={`${l.role}-${l.sha256}`}>
                <td>{l.role}</td>
                <td>{l.kind}</td>
                <td>
                  <code title={l.sha256}>{shortSha(l.sha256)}</code>
                </td>
                <td class="num">{bytes(l.size)}</td>
                <td>{l.cached ? 'yes' : <span class="muted">no</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </details>
  );
}

function VersionRow({ a }: { readonly a: Appliance }) {
  const pull = usePull(a.name, a.version);
  const [requesting, setRequesting] = useState(false);
  const cachedBytes = a.layers.filter((l) => l.cached).reduce((s, l) => s + l.size, 0);
  const running = pull?.phase === 'running' || requesting;
  const start = async () => {
    setRequesting(true);
    pullRequested(a.name, a.version, a.size);
    try {
      await api.post(`/appliances/${a.name}/${a.version}/pull?channel=${encodeURIComponent(a.channelId)}`);
    } catch (err) {
      const e = toApiError(err);
      pullFailed(a.name, a.version, e.code, e.message);
    } finally {
      setRequesting(false);
    }
  };
  return (
    <li class="version" data-appliance={`${a.name}@${a.version}`}>
      <div class="version-head">
        <span class="version-id">
          <strong>{a.version}</strong>
          {a.upgradesFrom ? <span class="muted small"> upgrades {a.upgradesFrom}</span> : null}
        </span>
        <span class="muted small">
          {mib(a.memoryMiB)} · {a.vcpus} vCPU · {bytes(a.size)}
        </span>
        <span>
          {a.cached ? (
            <span class="badge badge-ok">cached</span>
          ) : cachedBytes ? (
            <span class="badge badge-busy">partly cached</span>
          ) : (
            <span class="badge badge-idle">not cached</span>
          )}
        </span>
        <span class="row-actions">
          {!a.cached ? (
            <button type="button" onClick={() => void start()} disabled={running} aria-label={`Pull ${a.name} ${a.version}`}>
              {running ? 'Pulling…' : 'Pull'}
            </button>
          ) : null}
          <Link
            class="button primary"
            href={`/launch?appliance=${encodeURIComponent(a.name)}&version=${encodeURIComponent(a.version)}&channel=${encodeURIComponent(a.channelId)}`}
            aria-label={`Launch ${a.name} ${a.version}`}
          >
            Launch
          </Link>
        </span>
      </div>
      {pull ? <PullProgress name={a.name} version={a.version} pull={pull} /> : null}
      <Layers a={a} />
    </li>
  );
}

export function CatalogPage() {
  const res = useResource<{ appliances: Appliance[] }>('/appliances', ['channel', 'pull.completed', 'pull.failed']);
  const byName = new Map<string, Appliance[]>();
  for (const a of res.data?.appliances ?? []) byName.set(a.name, [...(byName.get(a.name) ?? []), a]);
  const names = [...byName.keys()].sort();
  const [importing, setImporting] = useState(false);
  return (
    <Page
      title="Catalog"
      actions={
        importing ? null : (
          <button type="button" onClick={() => setImporting(true)}>
            Import image
          </button>
        )
      }
    >
      {importing ? <ImageImportForm onDone={() => void res.reload()} onClose={() => setImporting(false)} /> : null}
      <ErrorBox error={res.error} />
      {res.loading && !res.data ? <Empty>Loading the catalog…</Empty> : null}
      {res.data && names.length === 0 ? (
        <Empty>
          The catalog is empty. <Link href="/channels">Subscribe to a channel</Link> or import a disk image to fill it.
        </Empty>
      ) : null}
      <div class="cards wide">
        {names.map((name) => {
          const versions = [...byName.get(name)!].sort((x, y) => compareVersionsDesc(x.version, y.version));
          const newest = versions[0]!;
          return (
            <article class="card appliance" key={name} aria-labelledby={`app-${name}`}>
              <h2 id={`app-${name}`}>
                {newest.title} <span class="muted small">{name}</span>
              </h2>
              <p>{newest.description}</p>
              <ul class="versions">
                {versions.map((a) => (
                  <VersionRow key={`${a.channelId}-${a.version}`} a={a} />
                ))}
              </ul>
            </article>
          );
        })}
      </div>
    </Page>
  );
}
