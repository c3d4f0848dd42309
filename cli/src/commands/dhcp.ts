/** `storm dhcp leases`: the addresses the manager's DHCP server has handed out (`/api/v1/dhcp/leases`). */
import { parseCommand } from '../args.js';
import type { CommandSpec } from '../command.js';
import { UsageError } from '../errors.js';
import { printList, serviceList } from '../service-api.js';

export const dhcp: CommandSpec = {
  name: 'dhcp',
  usage: ['dhcp leases'],
  summary: "the DHCP server's leases: address, MAC, instance, expiry",
  details: 'example: storm dhcp leases --json',
  async run(ctx, args) {
    const [sub, ...rest] = args;
    if (sub !== 'leases' && sub !== undefined) throw new UsageError(`unknown dhcp command ${JSON.stringify(sub)}`);
    parseCommand(rest, {}, { min: 0, max: 0 });
    printList(ctx, await serviceList(ctx, 'DHCP leases', '/dhcp/leases'), 'no leases', [
      'ip',
      'mac',
      'hostname',
      'instanceName',
      'active',
      'expiresAt',
    ]);
    return 0;
  },
};
