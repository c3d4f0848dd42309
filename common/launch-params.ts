/**
 * Launch parameters checked against the appliance's declared parameters: known names only, the
 * declared type, pattern and bounds, defaults filled in, required ones present. The manager refuses
 * a launch by these rules and the CLI checks `--param` flags by them before it asks. Patterns run
 * in linear time (`linear-pattern/`): a publisher's pattern cannot stall whoever checks.
 *
 * @example
 * checkParamValues(descriptor.parameters, { greeting: 'Hi' }); // { values: { greeting: 'Hi' }, problems: [] }
 */
import { compilePattern, type LinearPattern, PatternError } from './linear-pattern/index.js';

/** What checking needs of a declared parameter (a channel's `Parameter` has this shape). */
export interface DeclaredParam {
  readonly name: string;
  readonly type: string;
  readonly description: string;
  readonly default?: string | number | boolean;
  readonly pattern?: string;
  readonly min?: number;
  readonly max?: number;
}

export type ParamValue = string | number | boolean;

const MAX_STRING = 1024;

/** The given values as their declared types with the defaults filled in, and one line per problem. */
export function checkParamValues(
  declared: readonly DeclaredParam[],
  given: Readonly<Record<string, unknown>>,
): { values: Record<string, ParamValue>; problems: string[] } {
  const problems: string[] = [];
  const out: Record<string, ParamValue> = {};
  const known = new Map(declared.map((p) => [p.name, p]));
  for (const name of Object.keys(given)) if (!known.has(name)) problems.push(`${name}: not a parameter of this appliance`);
  for (const p of declared) {
    const raw = Object.hasOwn(given, p.name) ? given[p.name] : p.default;
    if (raw === undefined) {
      problems.push(`${p.name}: required (${p.description})`);
      continue;
    }
    const value = coerce(p, raw);
    if (typeof value === 'string' && value.startsWith('\0')) problems.push(`${p.name}: ${value.slice(1)}`);
    else out[p.name] = value;
  }
  return { values: out, problems };
}

/** The value as the declared type, or a string starting with NUL that says what is wrong. */
function coerce(p: DeclaredParam, raw: unknown): ParamValue {
  switch (p.type) {
    case 'integer': {
      const n = typeof raw === 'string' && /^-?\d+$/.test(raw) ? Number(raw) : raw;
      if (typeof n !== 'number' || !Number.isSafeInteger(n)) return '\0must be an integer';
      if (p.min !== undefined && n < p.min) return `\0must be at least ${p.min}`;
      if (p.max !== undefined && n > p.max) return `\0must be at most ${p.max}`;
      return n;
    }
    case 'boolean':
      if (typeof raw === 'boolean') return raw;
      if (raw === 'true' || raw === 'false') return raw === 'true';
      return '\0must be true or false';
    default: {
      if (typeof raw !== 'string') return '\0must be a string';
      if (raw.length > MAX_STRING) return `\0longer than ${MAX_STRING} characters`;
      if (/[\0-\x08\x0b\x0c\x0e-\x1f]/.test(raw)) return '\0contains control characters';
      if (p.pattern !== undefined) {
        let pattern: LinearPattern;
        try {
          pattern = compilePattern(p.pattern);
        } catch (err) {
          if (err instanceof PatternError) return `\0the appliance's pattern ${p.pattern} cannot be checked: ${err.message}`;
          throw err;
        }
        if (!pattern.test(raw)) return `\0must match ${p.pattern}`;
      }
      return raw;
    }
  }
}
