/** An API error as the administrator needs it: the stable code, then the message. */
import type { ApiError } from '../api/client.js';

export function ErrorBox({ error, title }: { readonly error: Pick<ApiError, 'code' | 'message'> | undefined; readonly title?: string }) {
  if (!error) return null;
  return (
    <div class="error" role="alert">
      {title ? <strong>{title}: </strong> : null}
      <code class="error-code">{error.code}</code> <span class="error-message">{error.message}</span>
    </div>
  );
}
