/**
 * Launch: pick the appliance version, name the instance, fill its declared parameters (checked as
 * the manager checks them), choose a host or let placement choose; then watch each step live.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, type ApiError, toApiError } from '../api/client.js';
import type { ApplianceView as Appliance, HostView as Host, InstanceView as Instance } from '../../../manager/protocol/index.js';
import { bytes, mib } from '../format.js';
import { suggestName } from '../launch/suggest-name.js';
import { checkInstanceName, checkParam, type ParamValue } from '../launch/validate-param.js';
import { launchRequested } from '../live/launches.js';
import { usePull } from '../live/pulls.js';
import { useResource } from '../live/use-resource.js';
import { navigate } from '../router.js';
import { ErrorBox } from '../ui/error-box.js';
import { Field } from '../ui/field.js';
import { Link } from '../ui/link.js';
import { Empty, Page } from '../ui/page.js';
import { compareVersionsDesc } from '../versions.js';
import { LaunchSteps } from './launch-steps.js';
import { ParamField } from './param-field.js';
import { PullProgress } from './pull-progress.js';

const keyOf = (a: Appliance) => `${a.channelId}/${a.name}/${a.version}`;

export function LaunchPage({ query }: { readonly query: URLSearchParams }) {
  const catalog = useResource<{ appliances: Appliance[] }>('/appliances', ['channel', 'pull.completed']);
  const hosts = useResource<{ hosts: Host[] }>('/hosts', ['host']);
  const instances = useResource<{ instances: Instance[] }>('/instances', []);
  const appliances = useMemo(
    () => [...(catalog.data?.appliances ?? [])].sort((a, b) => a.name.localeCompare(b.name) || compareVersionsDesc(a.version, b.version)),
    [catalog.data],
  );
  const wanted = appliances.find(
    (a) =>
      a.name === query.get('appliance') &&
      (!query.get('version') || a.version === query.get('version')) &&
      (!query.get('channel') || a.channelId === query.get('channel')),
  );
  const [selected, setSelected] = useState<string>('');
  const appliance = appliances.find((a) => keyOf(a) === selected) ?? wanted ?? appliances[0];
  const [typedName, setName] = useState('');
  const [nameTouched, setNameTouched] = useState(false);
  const [values, setValues] = useState<Record<string, string | boolean>>({});
  const [host, setHost] = useState('');
  const [submitted, setSubmitted] = useState(false);
  const [busy, setBusy] = useState(false);
  const [launching, setLaunching] = useState<string | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const pull = usePull(appliance?.name ?? '', appliance?.version ?? '');

  const taken = useMemo(() => new Set((instances.data?.instances ?? []).map((i) => i.name)), [instances.data]);
  // Until the administrator types a name, offer a free one for the chosen appliance.
  const name = nameTouched || !appliance ? typedName : suggestName(appliance.name, taken);
  useEffect(() => setValues({}), [appliance && keyOf(appliance)]);

  if (catalog.error)
    return (
      <Page title="Launch">
        <ErrorBox error={catalog.error} />
      </Page>
    );
  if (!catalog.data)
    return (
      <Page title="Launch">
        <Empty>Loading the catalog…</Empty>
      </Page>
    );
  if (!appliance) {
    return (
      <Page title="Launch">
        <Empty>
          Nothing to launch yet. <Link href="/channels">Subscribe to a channel</Link> first.
        </Empty>
      </Page>
    );
  }

  const nameProblem = checkInstanceName(name) ?? (taken.has(name) ? 'an instance has this name' : undefined);
  const checks = appliance.parameters.map((p) => ({ p, check: checkParam(p, values[p.name]) }));
  const invalid = nameProblem !== undefined || checks.some((c) => c.check.problem !== undefined);
  const readyHosts = (hosts.data?.hosts ?? []).filter((h) => h.status === 'ready');

  const submit = async (e: Event) => {
    e.preventDefault();
    setSubmitted(true);
    if (invalid) {
      (document.querySelector('[aria-invalid="true"]') as HTMLElement | null)?.focus();
      return;
    }
    const params: Record<string, ParamValue> = {};
    for (const { p } of checks) {
      const raw = values[p.name];
      if (raw === undefined || raw === '') continue;
      const c = checkParam(p, raw);
      if (c.value !== undefined) params[p.name] = c.value;
    }
    setBusy(true);
    setError(undefined);
    setLaunching(name);
    launchRequested(name);
    try {
      const inst = await api.post<Instance>('/instances', {
        appliance: appliance.name,
        version: appliance.version,
        channel: appliance.channelId,
        name,
        params,
        ...(host ? { host } : {}),
      });
      navigate(`/instances/${inst.id}`);
    } catch (err) {
      setError(toApiError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Page title="Launch">
      <form class="card form" onSubmit={(e) => void submit(e)} noValidate aria-label="Launch an instance">
        <Field
          id="launch-appliance"
          label="Appliance"
          hint={`${appliance.description} ${mib(appliance.memoryMiB)}, ${appliance.vcpus} vCPU, ${bytes(appliance.size)} of layers${appliance.cached ? ', cached' : ', pulled first'}.`}
        >
          <select
            id="launch-appliance"
            name="appliance"
            value={keyOf(appliance)}
            onChange={(e) => setSelected(e.currentTarget.value)}
            aria-describedby="launch-appliance-hint"
          >
            {appliances.map((a) => (
              <option key={keyOf(a)} value={keyOf(a)}>
                {a.title} {a.version} ({a.name}){a.cached ? '' : ' — will be pulled'}
              </option>
            ))}
          </select>
        </Field>
        <Field
          id="launch-name"
          label="Instance name"
          hint="Its DNS name and hostname. Lower-case letters, digits and dashes."
          problem={(submitted || nameTouched) && nameProblem ? nameProblem : undefined}
        >
          <input
            id="launch-name"
            name="name"
            value={name}
            required
            autocomplete="off"
            spellcheck={false}
            aria-invalid={(submitted || nameTouched) && nameProblem ? 'true' : undefined}
            aria-describedby="launch-name-hint"
            onInput={(e) => {
              setNameTouched(true);
              setName(e.currentTarget.value);
            }}
          />
        </Field>
        {appliance.parameters.length ? (
          <fieldset>
            <legend>Parameters</legend>
            {checks.map(({ p, check }) => (
              <ParamField
                key={p.name}
                p={p}
                value={values[p.name]}
                problem={submitted || values[p.name] !== undefined ? check.problem : undefined}
                onChange={(v) => setValues({ ...values, [p.name]: v })}
              />
            ))}
          </fieldset>
        ) : null}
        <Field
          id="launch-host"
          label="Host"
          problem={hosts.data && readyHosts.length === 0 ? 'No host is ready: add one on the Hosts page.' : undefined}
        >
          <select
            id="launch-host"
            name="host"
            value={host}
            onChange={(e) => setHost(e.currentTarget.value)}
            aria-describedby="launch-host-hint"
          >
            <option value="">Automatic (the host with the most free memory)</option>
            {readyHosts.map((h) => (
              <option key={h.id} value={h.id}>
                {h.name} — {mib(h.freeMemoryMiB)} free
              </option>
            ))}
          </select>
        </Field>
        <ErrorBox error={error} title="Launch failed" />
        <div class="actions">
          <button type="submit" class="primary" disabled={busy}>
            {busy ? 'Launching…' : `Launch ${appliance.name} ${appliance.version}`}
          </button>
        </div>
      </form>
      {pull && (pull.phase === 'running' || launching) ? (
        <PullProgress name={appliance.name} version={appliance.version} pull={pull} />
      ) : null}
      {launching ? <LaunchSteps name={launching} /> : null}
    </Page>
  );
}
