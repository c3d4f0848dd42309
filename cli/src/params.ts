/**
 * `--param KEY=VALUE` flags, checked against the appliance's declared parameters before any request
 * changes anything, by the rules the manager applies (`common/launch-params.ts`: known names, type,
 * pattern, bounds).
 *
 * @example
 * const given = parseParamFlags(['greeting=Hi']);
 * checkParams(appliance.parameters, given, 'hello-web 1.1.0'); // { greeting: 'Hi' }
 */
import type { Parameter } from '../../channels/src/format/index.js';
import { checkParamValues, type ParamValue } from '../../common/launch-params.js';
import { UsageError } from './errors.js';
import { table } from './table.js';

export function parseParamFlags(flags: readonly string[]): Record<string, string> {
  const out = new Map<string, string>();
  for (const f of flags) {
    const i = f.indexOf('=');
    if (i <= 0) throw new UsageError(`--param wants KEY=VALUE, got ${JSON.stringify(f)}`);
    const key = f.slice(0, i);
    if (out.has(key)) throw new UsageError(`--param ${key} is given twice`);
    out.set(key, f.slice(i + 1));
  }
  // fromEntries makes own properties, so even a key like __proto__ stays data.
  return Object.fromEntries(out);
}

/** The given parameters as their declared types; a usage error listing what the appliance takes otherwise. */
export function checkParams(
  declared: readonly Parameter[],
  given: Readonly<Record<string, string>>,
  label: string,
): Record<string, ParamValue> {
  const { values: resolved, problems } = checkParamValues(declared, given);
  if (problems.length) throw new UsageError(`${label}: parameters: ${problems.join('; ')}\n${describeParams(declared, label)}`);
  // Only what was given: the manager fills the defaults itself.
  return Object.fromEntries(Object.keys(given).map((k) => [k, resolved[k]!]));
}

export function describeParams(declared: readonly Parameter[], label: string): string {
  if (declared.length === 0) return `${label} takes no parameters`;
  const rule = (p: Parameter) =>
    p.type === 'integer' && (p.min !== undefined || p.max !== undefined)
      ? `${p.min ?? ''}..${p.max ?? ''}`
      : p.pattern !== undefined
        ? `/${p.pattern}/`
        : undefined;
  const rows = declared.map((p) => [
    p.name,
    p.type,
    p.default === undefined ? 'required' : JSON.stringify(p.default),
    rule(p),
    p.description,
  ]);
  return `${label} takes:\n${table(['PARAMETER', 'TYPE', 'DEFAULT', 'RULE', 'DESCRIPTION'], rows).trimEnd()}`;
}
