/**
 * The CLI's failures that are not usage errors: each has a stable code and prints as
 * `storm: CODE: message` with exit status 1. The manager's own `{ code, message }` answers arrive
 * as `ApiError` (a `CliError` with the HTTP status).
 *
 * @example
 * throw cliError('CLI_ERR_EXISTS', `${path} exists; pass --force to replace it`);
 */
export const CLI_ERROR_CODES = [
  /** The manager could not be reached at all. */
  'CLI_ERR_UNREACHABLE',
  /** No API token in the flags, the environment or the token file. */
  'CLI_ERR_NO_TOKEN',
  /** The manager's certificate is not signed by the CA the CLI was given. */
  'CLI_ERR_UNTRUSTED',
  /** The manager answered without the route: the feature is not enabled (or not built) there. */
  'CLI_ERR_NOT_ENABLED',
  /** What the command names does not exist (checked by the CLI before asking the manager to act). */
  'CLI_ERR_NOT_FOUND',
  /** A file the command would write exists and `--force` was not given. */
  'CLI_ERR_EXISTS',
  /** The administrator answered no at a confirmation prompt. */
  'CLI_ERR_NOT_CONFIRMED',
  /** The event stream closed or failed. */
  'CLI_ERR_STREAM',
] as const;

export type CliErrorCode = (typeof CLI_ERROR_CODES)[number];

export class CliError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** An error the manager answered (its code and message), or a transport failure (`CLI_ERR_*`, status 0). */
export class ApiError extends CliError {
  constructor(
    readonly status: number,
    code: string,
    message: string,
  ) {
    super(code, message);
    this.name = 'ApiError';
  }
}

export const cliError = (code: CliErrorCode, message: string): CliError => new CliError(code, message);

/** A mistake in how the command was called: printed with a pointer to its help, exit status 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}
