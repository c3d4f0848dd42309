/**
 * The console's one way to the manager's API: same origin, the session cookie, the CSRF token on
 * every change, and every failure as an `ApiError` carrying the API's `{ code, message }`.
 *
 * @example
 * const { channels } = await api.get<{ channels: Channel[] }>('/channels');
 * await api.post('/channels', { url, publicKey });
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

let csrfToken: string | null = null;
let onUnauthorized: (() => void) | undefined;

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** The session's CSRF token, for the one request that cannot carry it as a header (the serial WebSocket). */
export function currentCsrfToken(): string | null {
  return csrfToken;
}

/** Called when an API call answers 401 (the session ended): the app shows the login page. */
export function setUnauthorizedHandler(fn: () => void): void {
  onUnauthorized = fn;
}

const isErrorBody = (v: unknown): v is { code: string; message: string } =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as { code?: unknown }).code === 'string' &&
  typeof (v as { message?: unknown }).message === 'string';

export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  return new ApiError(0, 'CONSOLE_ERR_INTERNAL', err instanceof Error ? err.message : String(err));
}

/** Headers of a request: JSON, and the CSRF token for anything that changes state. */
export function requestHeaders(method: string, hasBody: boolean): Record<string, string> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (hasBody) headers['content-type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['x-csrf-token'] = csrfToken;
  return headers;
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`/api/v1${path}`, {
      method,
      headers: requestHeaders(method, body !== undefined),
      credentials: 'same-origin',
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (err) {
    throw new ApiError(0, 'CONSOLE_ERR_NETWORK', `the manager did not answer (${err instanceof Error ? err.message : String(err)})`);
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    if (res.status === 401 && path !== '/session') onUnauthorized?.();
    if (isErrorBody(json)) throw new ApiError(res.status, json.code, json.message);
    throw new ApiError(res.status, `HTTP_${res.status}`, text.slice(0, 300) || res.statusText);
  }
  return json as T;
}

export const api = {
  get: <T>(path: string) => call<T>('GET', path),
  post: <T>(path: string, body?: unknown) => call<T>('POST', path, body),
  put: <T>(path: string, body?: unknown) => call<T>('PUT', path, body),
  patch: <T>(path: string, body?: unknown) => call<T>('PATCH', path, body),
  delete: <T = void>(path: string) => call<T>('DELETE', path),
};
