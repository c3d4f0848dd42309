/**
 * Client-side checks of launch parameters, mirroring the manager's `resolveParams` (same types,
 * pattern engine, bounds, length and control-character rules) so the form says what
 * is wrong before the request; `test/conformance/launch-params.test.ts` holds the
 * two to the same answers. The manager still decides.
 *
 * @example
 * checkParam({ name: 'port', type: 'integer', description: '', min: 1 }, '0'); // { problem: 'must be at least 1' }
 */
import { compilePattern, type LinearPattern } from '../../../common/linear-pattern/index.js';
import type { Parameter } from '../../../manager/protocol/index.js';

export type ParamValue = string | number | boolean;
export type ParamCheck =
  | { readonly value: ParamValue; readonly problem?: undefined }
  | { readonly value?: undefined; readonly problem: string };

const MAX_STRING = 1024;

/** The form's text (or checkbox) value as the declared type, or what is wrong; empty means "the default". */
export function checkParam(p: Parameter, raw: string | boolean | undefined): ParamCheck {
  if (raw === undefined || raw === '') return p.default === undefined ? { problem: 'required' } : checkGiven(p, p.default);
  return checkGiven(p, raw);
}

function checkGiven(p: Parameter, raw: ParamValue): ParamCheck {
  switch (p.type) {
    case 'integer': {
      const n = typeof raw === 'string' && /^-?\d+$/.test(raw) ? Number(raw) : raw;
      if (typeof n !== 'number' || !Number.isSafeInteger(n)) return { problem: 'must be an integer' };
      if (p.min !== undefined && n < p.min) return { problem: `must be at least ${p.min}` };
      if (p.max !== undefined && n > p.max) return { problem: `must be at most ${p.max}` };
      return { value: n };
    }
    case 'boolean':
      if (typeof raw === 'boolean') return { value: raw };
      if (raw === 'true' || raw === 'false') return { value: raw === 'true' };
      return { problem: 'must be true or false' };
    default:
      return typeof raw === 'string' ? checkString(p, raw) : { problem: 'must be a string' };
  }
}

function checkString(p: Parameter, s: string): ParamCheck {
  if (s.length > MAX_STRING) return { problem: `longer than ${MAX_STRING} characters` };
  if (/[\0-\x08\x0b\x0c\x0e-\x1f]/.test(s)) return { problem: 'contains control characters' };
  if (p.pattern !== undefined) {
    let pattern: LinearPattern;
    try {
      pattern = compilePattern(p.pattern);
    } catch (err) {
      return { problem: `the appliance's pattern ${p.pattern} cannot be checked: ${err instanceof Error ? err.message : String(err)}` };
    }
    if (!pattern.test(s)) return { problem: `must match ${p.pattern}` };
  }
  return { value: s };
}

/** The instance name rule of the manager's launcher. */
export const INSTANCE_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export function checkInstanceName(name: string): string | undefined {
  if (!name) return 'required';
  if (!INSTANCE_NAME.test(name)) return 'lower-case letters, digits and dashes (not at either end), at most 63';
  return undefined;
}
