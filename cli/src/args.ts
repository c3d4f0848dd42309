/**
 * A command's own flags and positional arguments, parsed strictly (an unknown flag is a usage
 * error, never ignored) with Node's `util.parseArgs`.
 *
 * @example
 * const { values, positionals } = parseCommand(args, { host: { type: 'string' } }, { min: 2, max: 2 });
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './errors.js';

type Options = NonNullable<ParseArgsConfig['options']>;

export function parseCommand<const O extends Options>(
  args: readonly string[],
  options: O,
  positionals: { readonly min: number; readonly max: number },
) {
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const n = parsed.positionals.length;
  if (n < positionals.min) throw new UsageError(n === 0 ? 'missing arguments' : `expected at least ${positionals.min} arguments, got ${n}`);
  if (n > positionals.max) throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[positionals.max])}`);
  return parsed;
}

/** A whole number flag (seconds, bytes, counts) within bounds. */
export function intFlag(value: string | undefined, flag: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw new UsageError(`--${flag} must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  return n;
}
