/**
 * The guests' XML-RPC method table: four methods, each checked for its parameters and mapped onto
 * the guest API; never dispatched by name onto an object. `storm.getConfig()`,
 * `storm.registerRecord(type, name, value)`, `storm.reportStatus(phase, details)`,
 * `storm.getKeytab([name])` (its own Kerberos keys, when the manager runs a realm).
 *
 * @example
 * const result = await callGuestMethod(guests, inst, 'storm.getConfig', []);
 */
import { FAULT, GuestFault } from '../../guests/guest-fault.js';
import { GUEST_PHASES, type GuestApi } from '../../guests/guest-api.js';
import type { InstanceRow } from '../../instances/instance-store.js';
import type { XmlRpcValue } from './codec.js';

export async function callGuestMethod(
  guests: GuestApi,
  inst: InstanceRow,
  method: string,
  params: readonly XmlRpcValue[],
): Promise<XmlRpcValue> {
  switch (method) {
    case 'storm.getConfig':
      return guests.getConfig(inst);
    case 'storm.registerRecord': {
      const [type, name, value] = params;
      if (params.length !== 3 || typeof type !== 'string' || typeof name !== 'string' || typeof value !== 'string')
        throw new GuestFault(FAULT.badParams, 'storm.registerRecord(type, name, value): three strings');
      return guests.registerRecord(inst, type, name, value);
    }
    case 'storm.getKeytab': {
      const [whose] = params;
      if (params.length > 1 || (whose !== undefined && typeof whose !== 'string'))
        throw new GuestFault(FAULT.badParams, "storm.getKeytab([name]): no parameter, or this instance's own name");
      return guests.getKeytab(inst, whose);
    }
    case 'storm.reportStatus': {
      const [phase, details] = params;
      if (typeof phase !== 'string' || !GUEST_PHASES.has(phase) || params.length > 2)
        throw new GuestFault(FAULT.badParams, `storm.reportStatus(phase, details): phase one of ${[...GUEST_PHASES].join(', ')}`);
      return guests.reportStatus(inst, phase, details ?? '');
    }
    default:
      throw new GuestFault(FAULT.unknownMethod, `no such method: ${method.slice(0, 100)}`);
  }
}
