/**
 * A launch's parameters by the shared rules (`common/launch-params.ts`), refused with
 * `MGR_ERR_VALIDATION` listing every problem.
 *
 * @example
 * resolveParams(descriptor.parameters, { greeting: 'Hi' }); // { greeting: 'Hi' }
 */
import { checkParamValues, type DeclaredParam, type ParamValue } from '../../../common/launch-params.js';
import { MgrErr } from '../errors.js';

export type { ParamValue };

export function resolveParams(declared: readonly DeclaredParam[], given: Readonly<Record<string, unknown>>): Record<string, ParamValue> {
  const { values, problems } = checkParamValues(declared, given);
  if (problems.length) throw MgrErr.MGR_ERR_VALIDATION(`parameters: ${problems.join('; ')}`);
  return values;
}
