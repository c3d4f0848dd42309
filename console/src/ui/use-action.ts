/**
 * One form's action state: busy while it runs (the submit button is disabled), and the API error it
 * ended with (for the form's ErrorBox), cleared when it runs again.
 *
 * @example
 * const action = useAction();
 * const submit = (e: Event) => { e.preventDefault(); void action.run(async () => { await api.post('/channels', body); onDone(); }); };
 * <button disabled={action.busy}>…</button> <ErrorBox error={action.error} title="Not added" />
 */
import { useState } from 'preact/hooks';
import { type ApiError, toApiError } from '../api/client.js';

export interface Action {
  readonly busy: boolean;
  readonly error: ApiError | undefined;
  /** Runs `fn`; resolves true when it succeeded, false when it failed (its error is then in `error`). */
  run(fn: () => Promise<void>): Promise<boolean>;
}

export function useAction(): Action {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const run = async (fn: () => Promise<void>): Promise<boolean> => {
    setBusy(true);
    setError(undefined);
    try {
      await fn();
      return true;
    } catch (err) {
      setError(toApiError(err));
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, run };
}
