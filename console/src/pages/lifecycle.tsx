/**
 * The instance's history and Blutopia's operations: its checkpoints (when, why, which version and
 * layers), checkpoint now, roll back to any of them, upgrade to another version, package, flatten.
 * Every operation stops a running instance for the change and starts it again: the confirmation
 * says so before anything happens.
 */
import { useState } from 'preact/hooks';
import { api, type ApiError, toApiError } from '../api/client.js';
import type {
  ApplianceView as Appliance,
  CheckpointView as Checkpoint,
  InstanceView as Instance,
} from '../../../manager/protocol/index.js';
import { ago, shortSha } from '../format.js';
import { useResource } from '../live/use-resource.js';
import { useConfirm } from '../ui/confirm.js';
import { ErrorBox } from '../ui/error-box.js';

export function Lifecycle({ inst, onDone }: { readonly inst: Instance; readonly onDone: () => void }) {
  const cps = useResource<{ checkpoints: readonly Checkpoint[] }>(`/instances/${encodeURIComponent(inst.id)}/checkpoints`, [
    'instance.operation',
    'instance.state',
  ]);
  const versions = useResource<{ appliances: Appliance[] }>(`/appliances?name=${encodeURIComponent(inst.appliance)}`, ['channel']);
  const [busy, setBusy] = useState<string | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [pkg, setPkg] = useState({ name: `${inst.appliance}-site`, version: '1.0.0' });
  const ask = useConfirm();
  const running = inst.state === 'running';
  const restartNote = running
    ? `${inst.name} is running: it is stopped for this and started again afterwards.`
    : `${inst.name} is stopped and stays stopped.`;

  const operate = async (label: string, body: Record<string, unknown>, question: string) => {
    const ok = await ask.confirm({
      title: question,
      body: <p>{restartNote} A checkpoint of the current state is recorded first, so this can be rolled back.</p>,
      action: label,
    });
    if (!ok) return;
    setBusy(label);
    setError(undefined);
    try {
      await api.post(`/instances/${inst.id}/actions`, body);
    } catch (err) {
      setError(toApiError(err));
    } finally {
      setBusy(undefined);
      onDone();
      void cps.reload();
    }
  };

  const others = (versions.data?.appliances ?? []).filter((a) => a.version !== inst.version);
  const frozen = inst.layers.filter((l) => l.kind === 'frozen').length;
  const locked = busy !== undefined || !['running', 'stopped'].includes(inst.state);
  return (
    <section class="card" aria-labelledby="lifecycle-title">
      <h2 id="lifecycle-title">Checkpoints and versions</h2>
      {/* biome-ignore lint/a11y/useSemanticElements: a row of buttons, not a form: a fieldset would bring a form's border and legend */}
      <div class="row-actions" role="group" aria-label={`Lifecycle of ${inst.name}`}>
        <button
          type="button"
          disabled={locked}
          onClick={() => void operate('Checkpoint', { action: 'checkpoint' }, `Checkpoint ${inst.name}?`)}
        >
          {busy === 'Checkpoint' ? 'Recording…' : 'Checkpoint now'}
        </button>
        {others.map((a) => (
          <button
            key={a.version}
            type="button"
            disabled={locked}
            onClick={() =>
              void operate(
                `Upgrade to ${a.version}`,
                { action: 'upgrade', version: a.version },
                `Move ${inst.name} to ${inst.appliance} ${a.version}?`,
              )
            }
          >
            {busy === `Upgrade to ${a.version}` ? 'Moving…' : `Move to ${a.version}`}
          </button>
        ))}
        <button
          type="button"
          disabled={locked || frozen < 2}
          title={frozen < 2 ? 'Fewer than two frozen layers' : undefined}
          onClick={() => void operate('Flatten', { action: 'flatten' }, `Merge ${inst.name}'s ${frozen} frozen layers into one?`)}
        >
          Flatten
        </button>
      </div>
      <form
        class="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          void operate(
            'Package',
            { action: 'package', name: pkg.name, version: pkg.version },
            `Package ${inst.name} as ${pkg.name} ${pkg.version}?`,
          );
        }}
      >
        <label>
          Package as{' '}
          <input
            value={pkg.name}
            pattern="[a-z0-9][a-z0-9-]{0,62}"
            required
            onInput={(e) => setPkg({ ...pkg, name: e.currentTarget.value })}
            aria-label="Package name"
          />
        </label>
        <label>
          version{' '}
          <input
            value={pkg.version}
            pattern="[0-9A-Za-z.+-]{1,64}"
            required
            size={8}
            onInput={(e) => setPkg({ ...pkg, version: e.currentTarget.value })}
            aria-label="Package version"
          />
        </label>
        <button type="submit" disabled={locked}>
          {busy === 'Package' ? 'Packaging…' : 'Package'}
        </button>
      </form>
      <ErrorBox error={error ?? cps.error} />
      {cps.data?.checkpoints.length ? (
        <div class="table-wrap">
          <table class="table">
            <caption class="sr-only">Checkpoints of {inst.name}, oldest first</caption>
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">When</th>
                <th scope="col">Why</th>
                <th scope="col">Appliance</th>
                <th scope="col">Layers</th>
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {cps.data.checkpoints.map((c) => (
                <tr key={c.id}>
                  <td>{c.seq}</td>
                  <td title={c.createdAt}>{ago(c.createdAt)}</td>
                  <td>{c.reason}</td>
                  <td>
                    {c.appliance} {c.version}
                  </td>
                  <td class="small">{c.layers.map((l) => l.id ?? `${l.kind} ${shortSha(l.sha256)}`).join(' · ')}</td>
                  <td>
                    <button
                      type="button"
                      disabled={locked}
                      onClick={() =>
                        void operate(
                          `Roll back to #${c.seq}`,
                          { action: 'rollback', checkpoint: c.id },
                          `Roll ${inst.name} back to checkpoint #${c.seq}?`,
                        )
                      }
                    >
                      Roll back
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <p class="muted">No checkpoints yet: every operation records one first.</p>
      )}
      {ask.dialog}
    </section>
  );
}
