/**
 * One form's action state: which action runs (busy: the buttons are disabled, and a form with
 * several actions can label the one running), and the API error it ended with (for the form's
 * ErrorBox), cleared when an action runs again.
 *
 * @example
 * const action = useAction();
 * const submit = (e: Event) => { e.preventDefault(); void action.run(async () => { await api.post('/channels', body); onDone(); }); };
 * <button disabled={action.busy}>…</button> <ErrorBox error={action.error} title="Not added" />
 * void action.run(() => api.post(`/instances/${id}/actions`, { action: 'stop' }), 'stop'); // action.running === 'stop'
 */
import { useState } from 'preact/hooks';
import { type ApiError, toApiError } from '../api/client.js';

export interface Action {
  readonly busy: boolean;
  /** The label of the action running (what `run` was given), or undefined. */
  readonly running: string | undefined;
  readonly error: ApiError | undefined;
  /** Runs `fn`; resolves true when it succeeded, false when it failed (its error is then in `error`). */
  run(fn: () => Promise<unknown>, label?: string): Promise<boolean>;
}

export function useAction(): Action {
  const [running, setRunning] = useState<string | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const run = async (fn: () => Promise<unknown>, label = 'action'): Promise<boolean> => {
    setRunning(label);
    setError(undefined);
    try {
      await fn();
      return true;
    } catch (err) {
      setError(toApiError(err));
      return false;
    } finally {
      setRunning(undefined);
    }
  };
  return { busy: running !== undefined, running, error, run };
}
