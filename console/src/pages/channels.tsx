/** Channels: subscribe with the feed URL and the publisher's key, refresh, see status and the last error. */
import { useState } from 'preact/hooks';
import { api, type ApiError, toApiError } from '../api/client.js';
import type { ChannelView as Channel } from '../../../manager/protocol/index.js';
import { ago } from '../format.js';
import { useResource } from '../live/use-resource.js';
import { useConfirm } from '../ui/confirm.js';
import { ErrorBox } from '../ui/error-box.js';
import { Field } from '../ui/field.js';
import { Link } from '../ui/link.js';
import { Empty, Page } from '../ui/page.js';
import { StateBadge } from '../ui/state-badge.js';
import { useAction } from '../ui/use-action.js';

function SubscribeForm({ onDone }: { readonly onDone: () => void }) {
  const [url, setUrl] = useState('');
  const [publicKey, setPublicKey] = useState('');
  const { busy, error, run } = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    void run(async () => {
      await api.post('/channels', { url: url.trim(), ...(publicKey.trim() ? { publicKey: publicKey.trim() } : {}) });
      setUrl('');
      setPublicKey('');
      onDone();
    });
  };
  return (
    <form class="card form" onSubmit={submit} aria-labelledby="subscribe-title">
      <h2 id="subscribe-title">Subscribe to a channel</h2>
      <ErrorBox error={error} title="Not subscribed" />
      <Field id="channel-url" label="Feed URL">
        <input
          id="channel-url"
          name="url"
          type="url"
          required
          placeholder="https://appliances.example.org/channel.xml"
          value={url}
          onInput={(e) => setUrl(e.currentTarget.value)}
        />
      </Field>
      <Field id="channel-key" label="Publisher key" hint="Pinned at subscription: every refresh must be signed with it.">
        <textarea
          id="channel-key"
          name="publicKey"
          rows={4}
          placeholder="-----BEGIN PUBLIC KEY----- … (from the channel's publisher)"
          value={publicKey}
          aria-describedby="channel-key-hint"
          onInput={(e) => setPublicKey(e.currentTarget.value)}
        />
      </Field>
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Subscribing…' : 'Subscribe'}
        </button>
      </div>
    </form>
  );
}

export function ChannelsPage() {
  const res = useResource<{ channels: Channel[] }>('/channels', ['channel']);
  const [busy, setBusy] = useState<string | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const ask = useConfirm();

  const act = async (id: string, fn: () => Promise<unknown>) => {
    setBusy(id);
    setError(undefined);
    try {
      await fn();
    } catch (err) {
      setError(toApiError(err));
    } finally {
      setBusy(undefined);
      void res.reload();
    }
  };
  const remove = async (c: Channel) => {
    if (
      await ask.confirm({
        title: `Unsubscribe from ${c.title ?? c.url}?`,
        body: 'Its appliances leave the catalog. Running instances and cached layers stay.',
        action: 'Unsubscribe',
      })
    ) {
      await act(c.id, () => api.delete(`/channels/${c.id}`));
    }
  };

  const channels = res.data?.channels ?? [];
  return (
    <Page title="Channels">
      <SubscribeForm onDone={() => void res.reload()} />
      <ErrorBox error={res.error ?? error} />
      {res.loading && !res.data ? <Empty>Loading channels…</Empty> : null}
      {res.data && channels.length === 0 ? (
        <Empty>No channels yet. Subscribe to one above; its appliances appear in the catalog.</Empty>
      ) : null}
      {channels.length ? (
        <div class="table-wrap">
          <table>
            <caption class="sr-only">Subscribed channels</caption>
            <thead>
              <tr>
                <th scope="col">Channel</th>
                <th scope="col">Status</th>
                <th scope="col">Signed</th>
                <th scope="col">Last refresh</th>
                <th scope="col">Last error</th>
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {channels.map((c) => (
                <tr key={c.id} data-channel={c.id}>
                  <td>
                    <strong>{c.title ?? '(not fetched yet)'}</strong>
                    <div class="muted small break">{c.url}</div>
                  </td>
                  <td>
                    <StateBadge state={c.status} />
                  </td>
                  <td>{c.signed ? 'yes, key pinned' : <span class="warn">unsigned</span>}</td>
                  <td>{ago(c.lastRefresh)}</td>
                  <td class="break">{c.lastError ? <span class="bad-text">{c.lastError}</span> : '—'}</td>
                  <td class="row-actions">
                    <button
                      type="button"
                      disabled={busy === c.id}
                      onClick={() => void act(c.id, () => api.post(`/channels/${c.id}/refresh`))}
                      aria-label={`Refresh ${c.title ?? c.url}`}
                    >
                      {busy === c.id ? 'Refreshing…' : 'Refresh'}
                    </button>
                    <button
                      type="button"
                      class="danger-quiet"
                      disabled={busy === c.id}
                      onClick={() => void remove(c)}
                      aria-label={`Unsubscribe from ${c.title ?? c.url}`}
                    >
                      Unsubscribe
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {channels.some((c) => c.status === 'ok') ? (
        <p>
          <Link href="/catalog">Open the catalog →</Link>
        </p>
      ) : null}
      {ask.dialog}
    </Page>
  );
}
