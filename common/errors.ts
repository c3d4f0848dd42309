/**
 * Error catalogs: each binary declares one catalog of stable codes, HTTP statuses and messages
 * (`MGR_ERR_*`, `STORMD_ERR_*`, `CHAN_ERR_*`); one error handler per server maps them to
 * `{ code, message }`.
 *
 * @example
 * const Err = defineErrors({ MGR_ERR_NOT_FOUND: { status: 404, message: 'not found' } });
 * throw Err.MGR_ERR_NOT_FOUND('instance web1'); // message "not found: instance web1"
 */
export interface ErrorSpec {
  readonly status: number;
  readonly message: string;
}

export interface StormErrorOptions {
  readonly cause?: unknown;
  /** Extra machine-readable fields sent with the error body (for example `{ layer: sha256 }`). */
  readonly details?: Readonly<Record<string, unknown>>;
}

/** An error from a catalog: carries its stable code and the HTTP status it maps to. */
export class StormError extends Error {
  readonly code: string;
  readonly statusCode: number;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: string, statusCode: number, message: string, options: StormErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StormError';
    this.code = code;
    this.statusCode = statusCode;
    this.details = options.details;
  }

  /** The wire shape every API answers errors with. */
  toJSON(): { code: string; message: string; details?: Readonly<Record<string, unknown>> } {
    return this.details ? { code: this.code, message: this.message, details: this.details } : { code: this.code, message: this.message };
  }
}

export type ErrorFactory = ((detail?: string, options?: StormErrorOptions) => StormError) & {
  readonly code: string;
  readonly status: number;
  /** True when `err` was made by this factory. */
  is(err: unknown): err is StormError;
};

export type ErrorCatalog<T extends Record<string, ErrorSpec>> = { readonly [K in keyof T]: ErrorFactory };

/** Builds one factory per catalog entry; the code of each is its key. */
export function defineErrors<const T extends Record<string, ErrorSpec>>(catalog: T): ErrorCatalog<T> {
  const out: Record<string, ErrorFactory> = {};
  for (const [code, spec] of Object.entries(catalog)) {
    const factory = (detail?: string, options?: StormErrorOptions): StormError =>
      new StormError(code, spec.status, detail ? `${spec.message}: ${detail}` : spec.message, options);
    out[code] = Object.assign(factory, {
      code,
      status: spec.status,
      is: (err: unknown): err is StormError => err instanceof StormError && err.code === code,
    });
  }
  return Object.freeze(out) as ErrorCatalog<T>;
}

/** Message of any thrown value, for logs and `last_error` columns. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
