/** Log in: the admin account's name and password; a refusal shows the API's code and message. */
import { useEffect, useRef, useState } from 'preact/hooks';
import { type ApiError, toApiError } from '../api/client.js';
import { navigate } from '../router.js';
import { logIn } from '../session.js';
import { ErrorBox } from '../ui/error-box.js';

export function LoginPage({
  ended,
  error,
  next,
}: {
  readonly ended: boolean;
  readonly error: ApiError | undefined;
  readonly next: string;
}) {
  const [username, setUsername] = useState('admin');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<ApiError | undefined>(error);
  const passwordRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    document.title = 'Log in · STORM';
    passwordRef.current?.focus();
    if (!location.pathname.startsWith('/login')) navigate(`/login?next=${encodeURIComponent(next)}`, { replace: true });
  }, []);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setFailure(undefined);
    try {
      await logIn(username, password);
    } catch (err) {
      setFailure(toApiError(err));
      setPassword('');
      passwordRef.current?.focus();
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="login" id="main">
      <form class="card login-card" onSubmit={(e) => void submit(e)} aria-labelledby="login-title">
        <h1 id="login-title">STORM</h1>
        <p class="muted">Log in to the appliance manager.</p>
        {ended ? <p class="notice">Your session ended. Log in again to go on where you were.</p> : null}
        <ErrorBox error={failure} />
        <label>
          User
          <input name="username" autocomplete="username" required value={username} onInput={(e) => setUsername(e.currentTarget.value)} />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autocomplete="current-password"
            required
            ref={passwordRef}
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </label>
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Logging in…' : 'Log in'}
        </button>
      </form>
    </main>
  );
}
