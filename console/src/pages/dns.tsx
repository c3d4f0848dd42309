/** DNS records the manager serves: what appliances registered and what the administrator added; add and remove. */
import { useState } from 'preact/hooks';
import { api, type ApiError, toApiError } from '../api/client.js';
import { useConfirm } from '../ui/confirm.js';
import { ErrorBox } from '../ui/error-box.js';
import { Field } from '../ui/field.js';
import { Page } from '../ui/page.js';
import { useAction } from '../ui/use-action.js';
import { type Row, ServiceList } from './service-list.js';

const TYPES = ['MX', 'SRV', 'TXT', 'CNAME'] as const;
const VALUE_HINT: Readonly<Record<(typeof TYPES)[number], string>> = {
  MX: 'preference and mail host, e.g. "10 mail"',
  SRV: 'priority, weight, port and target, e.g. "0 5 389 ldap"',
  TXT: 'the text',
  CNAME: 'the name it points at',
};

function AddRecord({ onDone }: { readonly onDone: () => void }) {
  const [type, setType] = useState<(typeof TYPES)[number]>('MX');
  const [name, setName] = useState('');
  const [value, setValue] = useState('');
  const [ttl, setTtl] = useState('');
  const { busy, error, run } = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    void run(async () => {
      await api.post('/dns/records', { type, name: name.trim(), value: value.trim(), ...(ttl.trim() ? { ttl: Number(ttl) } : {}) });
      setName('');
      setValue('');
      onDone();
    });
  };
  return (
    <form class="card form" onSubmit={submit} aria-labelledby="add-record-title">
      <h2 id="add-record-title">Add a record</h2>
      <ErrorBox error={error} title="Not added" />
      <div class="inline-fields wrap">
        <Field id="dns-type" label="Type">
          <select id="dns-type" value={type} onChange={(e) => setType(e.currentTarget.value as (typeof TYPES)[number])}>
            {TYPES.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </Field>
        <Field id="dns-name" label="Name" hint="in the appliance zone; @ is the zone itself">
          <input
            id="dns-name"
            required
            spellcheck={false}
            value={name}
            onInput={(e) => setName(e.currentTarget.value)}
            aria-describedby="dns-name-hint"
          />
        </Field>
        <Field id="dns-value" label="Value" hint={VALUE_HINT[type]}>
          <input
            id="dns-value"
            required
            spellcheck={false}
            value={value}
            onInput={(e) => setValue(e.currentTarget.value)}
            aria-describedby="dns-value-hint"
          />
        </Field>
        <Field id="dns-ttl" label="TTL (s)" hint="empty: the zone's default">
          <input
            id="dns-ttl"
            type="number"
            min={0}
            max={604800}
            step={1}
            value={ttl}
            onInput={(e) => setTtl(e.currentTarget.value)}
            aria-describedby="dns-ttl-hint"
          />
        </Field>
      </div>
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          Add record
        </button>
      </div>
    </form>
  );
}

export function DnsPage() {
  const [version, setVersion] = useState(0);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const ask = useConfirm();
  const remove = async (row: Row) => {
    const what = `${String(row.type)} ${String(row.name)}`;
    if (
      !(await ask.confirm({
        title: `Remove ${what}?`,
        body: <p>Resolvers stop getting it once their cached copy expires.</p>,
        action: 'Remove',
      }))
    )
      return;
    setError(undefined);
    try {
      await api.delete(`/dns/records/${String(row.id)}`);
    } catch (err) {
      setError(toApiError(err));
    }
    setVersion(version + 1);
  };
  return (
    <Page title="DNS records">
      <AddRecord onDone={() => setVersion(version + 1)} />
      <ErrorBox error={error} />
      <ServiceList
        key={version}
        path="/dns/records"
        what="DNS records"
        refreshOn={['dns', 'instance']}
        preferred={['name', 'type', 'value', 'ttl', 'instanceId', 'createdAt']}
        rowActions={(row) =>
          typeof row.id === 'number' ? (
            <button
              type="button"
              class="danger-quiet"
              onClick={() => void remove(row)}
              aria-label={`Remove ${String(row.type)} ${String(row.name)}`}
            >
              Remove
            </button>
          ) : null
        }
      />
      {ask.dialog}
    </Page>
  );
}
