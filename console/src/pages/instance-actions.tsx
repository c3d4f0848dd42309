/** Start, stop, reboot and destroy (destroy asks first), offered as the state allows. */
import { api } from '../api/client.js';
import type { InstanceView as Instance } from '../../../manager/protocol/index.js';
import { navigate } from '../router.js';
import { useConfirm } from '../ui/confirm.js';
import { ErrorBox } from '../ui/error-box.js';
import { useAction } from '../ui/use-action.js';

const BUSY = new Set(['launching', 'destroying', 'failed']);

export function InstanceActions({
  inst,
  onDone,
  after = 'stay',
}: {
  readonly inst: Instance;
  readonly onDone: () => void;
  readonly after?: 'stay' | 'list';
}) {
  const { running: busy, error, run: runAction } = useAction();
  const ask = useConfirm();
  // Whatever the outcome, the page refreshes the instance.
  const run = (what: string, fn: () => Promise<unknown>) => runAction(() => fn().finally(onDone), what);
  const act = (action: 'start' | 'stop' | 'reboot') => void run(action, () => api.post(`/instances/${inst.id}/actions`, { action }));
  const destroy = async () => {
    const ok = await ask.confirm({
      title: `Destroy ${inst.name}?`,
      body: (
        <p>
          The domain and its writable instance layer on {inst.host?.name ?? 'its host'} are removed for good, with everything written inside
          it. The appliance's shared layers stay cached.
        </p>
      ),
      action: `Destroy ${inst.name}`,
    });
    if (ok && (await run('destroy', () => api.delete(`/instances/${inst.id}`))) && after === 'list') navigate('/instances');
  };
  const locked = busy !== undefined || (BUSY.has(inst.state) && inst.state !== 'failed');
  const running = inst.state === 'running';
  return (
    <div class="instance-actions">
      {/* biome-ignore lint/a11y/useSemanticElements: a row of buttons, not a form: a fieldset would bring a form's border and legend */}
      <div class="row-actions" role="group" aria-label={`Actions for ${inst.name}`}>
        <button type="button" disabled={locked || running || inst.state === 'failed'} onClick={() => act('start')}>
          {busy === 'start' ? 'Starting…' : 'Start'}
        </button>
        <button type="button" disabled={locked || !running} onClick={() => act('stop')}>
          {busy === 'stop' ? 'Stopping…' : 'Stop'}
        </button>
        <button type="button" disabled={locked || !running} onClick={() => act('reboot')}>
          {busy === 'reboot' ? 'Rebooting…' : 'Reboot'}
        </button>
        <button
          type="button"
          class="danger"
          disabled={busy !== undefined || inst.state === 'launching' || inst.state === 'destroying'}
          onClick={() => void destroy()}
        >
          {busy === 'destroy' ? 'Destroying…' : 'Destroy'}
        </button>
      </div>
      <ErrorBox error={error} />
      {ask.dialog}
    </div>
  );
}
