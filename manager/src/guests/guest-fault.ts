/**
 * The guest API's refusals, with the fault codes appliances see: the XML-RPC plugin answers each
 * as a `<fault>` with this code.
 *
 * @example
 * throw new GuestFault(FAULT.forbidden, 'web1 may not register records outside web1.storm.internal');
 */
export const FAULT = {
  parse: 1,
  unknownMethod: 2,
  badParams: 3,
  unauthenticated: 4,
  forbidden: 5,
  internal: 6,
  unavailable: 7,
  quota: 8,
} as const;

export class GuestFault extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}
