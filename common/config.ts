/**
 * Config loading shared by every binary: flags and environment variables are merged (flags win),
 * defaults come from the TypeBox schema, the result is validated once and deep-frozen.
 *
 * @example
 * const Schema = Type.Object({ data: Type.String({ default: './data' }) }, { additionalProperties: false });
 * const cfg = loadConfig(Schema, { data: { flag: 'data', env: 'STORM_DATA' } }, process.argv.slice(2), process.env);
 */
import { parseArgs } from 'node:util';
import type { Static, TSchema } from 'typebox';
import Value from 'typebox/value';

/** How one config key is read from the command line and the environment. */
export interface OptionSource {
  /** Long flag name without dashes, e.g. `data` for `--data DIR`. */
  readonly flag: string;
  /** Environment variable, e.g. `STORM_DATA`. */
  readonly env?: string;
  /** `boolean` for presence flags; `list` for repeatable flags (env: comma-separated). */
  readonly kind?: 'string' | 'integer' | 'boolean' | 'list';
  /** One line for `--help`. */
  readonly help?: string;
  /** Shown in `--help` after the flag, e.g. `DIR`. */
  readonly arg?: string;
}

export type OptionSources = Readonly<Record<string, OptionSource>>;

/** Raised when flags, environment or values do not satisfy the schema; `problems` lists each. */
export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export interface LoadedArgs {
  readonly values: Record<string, unknown>;
  readonly positionals: readonly string[];
  readonly help: boolean;
}

/** Parses flags and environment into raw values keyed like the schema (no validation yet). */
export function readOptions(sources: OptionSources, argv: readonly string[], env: NodeJS.ProcessEnv): LoadedArgs {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = { help: { type: 'boolean' } };
  for (const src of Object.values(sources)) {
    options[src.flag] =
      src.kind === 'boolean' ? { type: 'boolean' } : src.kind === 'list' ? { type: 'string', multiple: true } : { type: 'string' };
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new ConfigError([err instanceof Error ? err.message : String(err)]);
  }
  const values: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, src] of Object.entries(sources)) {
    const fromFlag = parsed.values[src.flag];
    const fromEnv = src.env ? env[src.env] : undefined;
    const raw = fromFlag ?? (fromEnv === undefined || fromEnv === '' ? undefined : fromEnv);
    if (raw === undefined) continue;
    const value = coerce(raw, src);
    if (value === undefined)
      problems.push(`--${src.flag}${src.env ? ` (${src.env})` : ''}: cannot read ${JSON.stringify(raw)} as ${src.kind ?? 'string'}`);
    else values[key] = value;
  }
  if (problems.length) throw new ConfigError(problems);
  return { values, positionals: parsed.positionals, help: parsed.values['help'] === true };
}

function coerce(raw: unknown, src: OptionSource): unknown {
  switch (src.kind) {
    case 'boolean':
      if (typeof raw === 'boolean') return raw;
      return raw === '1' || raw === 'true' ? true : raw === '0' || raw === 'false' ? false : undefined;
    case 'integer': {
      const n = Number(raw);
      return Number.isInteger(n) ? n : undefined;
    }
    case 'list':
      return Array.isArray(raw)
        ? raw
        : String(raw)
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean);
    default:
      return raw;
  }
}

/** Applies schema defaults, validates, and deep-freezes. */
export function validateConfig<S extends TSchema>(schema: S, values: Record<string, unknown>): Readonly<Static<S>> {
  const withDefaults = Value.Default(schema, structuredClone(values));
  if (!Value.Check(schema, withDefaults)) {
    const problems = [...Value.Errors(schema, withDefaults)].map((e) => `${e.instancePath || '/'}: ${e.message}`);
    throw new ConfigError(problems);
  }
  return deepFreeze(withDefaults as Static<S>);
}

/** Renders `--help` text for a binary from its option sources. */
export function renderHelp(usage: string, summary: string, sources: OptionSources): string {
  const rows = Object.values(sources).map((s) => {
    const left = `  --${s.flag}${s.arg ? ` ${s.arg}` : ''}`;
    const env = s.env ? ` [env ${s.env}]` : '';
    return `${left.padEnd(34)}${s.help ?? ''}${env}`;
  });
  return `${usage}\n\n${summary}\n\nOptions:\n${rows.join('\n')}\n  --help                          show this help\n`;
}

export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}

/** Parses `HOST:PORT` (IPv6 in brackets); throws a ConfigError naming the flag. */
export function parseHostPort(value: string, flag: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new ConfigError([`--${flag}: expected HOST:PORT, got ${JSON.stringify(value)}`]);
  return { host: m[1] ?? m[2] ?? '', port };
}
