/**
 * A dgram `lookup` for sockets that only ever send to IP literals (replies to a packet's source,
 * a configured upstream): it answers at once, skipping dns.lookup and its extra tick per datagram.
 *
 * @example
 * const socket = createSocket({ type: 'udp4', lookup: literalLookup });
 */
import type { LookupOneOptions } from 'node:dns';
import { isIP } from 'node:net';

export function literalLookup(
  address: string,
  _options: LookupOneOptions | number,
  callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  const family = isIP(address);
  if (family === 0) callback(Object.assign(new Error(`not an IP address: ${address}`), { code: 'EINVAL' }), '', 0);
  else callback(null, address, family);
}
