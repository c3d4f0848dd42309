/** Add a host: a single-use, expiring token and the exact command to run on the new host. */
import { useState } from 'preact/hooks';
import { api } from '../api/client.js';
import type { TokenCreated as EnrolmentToken } from '../../../manager/protocol/index.js';
import { ago } from '../format.js';
import { CopyButton } from '../ui/copy-button.js';
import { ErrorBox } from '../ui/error-box.js';
import { useAction } from '../ui/use-action.js';

const TTLS = [
  { seconds: 3600, label: '1 hour' },
  { seconds: 86_400, label: '1 day' },
  { seconds: 7 * 86_400, label: '7 days' },
];

export function EnrolHost({ onCreated }: { readonly onCreated: () => void }) {
  const [ttl, setTtl] = useState(3600);
  const [token, setToken] = useState<EnrolmentToken | undefined>(undefined);
  const { busy, error, run } = useAction();
  const create = (e: Event) => {
    e.preventDefault();
    void run(async () => {
      setToken(await api.post<EnrolmentToken>('/hosts/tokens', { ttlSeconds: ttl }));
      onCreated();
    });
  };
  return (
    <form class="card form" onSubmit={create} aria-labelledby="enrol-title">
      <h2 id="enrol-title">Add a host</h2>
      <p class="muted">Install STORM on the host, then run the command below there as root. The token works once.</p>
      <div class="inline-fields">
        <label>
          Token valid for
          <select value={String(ttl)} onChange={(e) => setTtl(Number(e.currentTarget.value))}>
            {TTLS.map((t) => (
              <option key={t.seconds} value={String(t.seconds)}>
                {t.label}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Creating…' : 'Create enrolment token'}
        </button>
      </div>
      <ErrorBox error={error} />
      {token ? (
        <div class="enrol-command">
          <label for="enrol-command">Run on the new host (expires {ago(token.expiresAt)}):</label>
          {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a keyboard user must reach the command to select and copy it */}
          <pre id="enrol-command" class="command" tabIndex={0}>
            {token.command}
          </pre>
          <CopyButton text={token.command} label="Copy command" />
          <p class="muted small break">
            The host checks the manager's CA fingerprint <code>{token.caFingerprint}</code> from the token.
          </p>
        </div>
      ) : null}
    </form>
  );
}
