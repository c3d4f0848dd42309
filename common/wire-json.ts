/**
 * Reading a STORM API answer: the body as JSON (undefined when empty or not JSON) and, for an error
 * status, the `{ code, message }` every STORM server answers errors with (see common/http-errors.ts).
 *
 * @example
 * const { json, error } = parseAnswer(res.statusCode, text);
 * if (error) throw new ApiError(error.status, error.code ?? `HTTP_${error.status}`, error.message);
 */
export interface AnswerError {
  readonly status: number;
  /** The server's catalog code, when the body carried one. */
  readonly code: string | undefined;
  /** The server's message, else the start of the body, else `HTTP <status>`. */
  readonly message: string;
}

export function parseAnswer(status: number, text: string): { json: unknown; error?: AnswerError } {
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (status < 400) return { json };
  const e = (json ?? {}) as { code?: unknown; message?: unknown };
  const message = typeof e.message === 'string' ? e.message : text.slice(0, 200) || `HTTP ${status}`;
  return { json, error: { status, code: typeof e.code === 'string' ? e.code : undefined, message } };
}
