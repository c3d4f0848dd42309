/**
 * Client-side DHCP messages for tests and the boot-storm benchmark: what a client sends in each
 * RFC 2131 state, built with the server's codec types.
 *
 * @example
 * const discover = clientMessage('DISCOVER', { mac: '52:54:00:00:00:01', xid: 7 });
 * const request = clientMessage('REQUEST', { mac: '52:54:00:00:00:01', xid: 7, serverId: '10.77.0.1', requested: '10.77.0.10' });
 */
import { BOOTREQUEST, chaddrOf, type DhcpMessage, encodeDhcp, FLAG_BROADCAST } from '../codec.js';
import { type DhcpOptions, ip, MessageType, type MessageTypeName, Opt, str, u8 } from '../options.js';

export interface ClientFields {
  readonly mac: string;
  readonly xid?: number;
  readonly ciaddr?: string;
  readonly giaddr?: string;
  readonly serverId?: string;
  readonly requested?: string;
  readonly hostname?: string;
  readonly broadcast?: boolean;
}

export function clientMessage(type: MessageTypeName, f: ClientFields): DhcpMessage {
  const options: DhcpOptions = new Map([[Opt.MESSAGE_TYPE, u8(MessageType[type])]]);
  if (f.requested) options.set(Opt.REQUESTED_IP, ip(f.requested));
  if (f.serverId) options.set(Opt.SERVER_ID, ip(f.serverId));
  if (f.hostname) options.set(Opt.HOSTNAME, str(f.hostname));
  options.set(Opt.PARAMETER_LIST, Buffer.from([1, 3, 6, 12, 15, 28, 51, 54]));
  return {
    op: BOOTREQUEST,
    htype: 1,
    hlen: 6,
    hops: 0,
    xid: f.xid ?? 1,
    secs: 0,
    flags: f.broadcast === false ? 0 : FLAG_BROADCAST,
    ciaddr: f.ciaddr ?? '0.0.0.0',
    yiaddr: '0.0.0.0',
    siaddr: '0.0.0.0',
    giaddr: f.giaddr ?? '0.0.0.0',
    chaddr: chaddrOf(f.mac),
    sname: '',
    file: '',
    options,
  };
}

export function clientPacket(type: MessageTypeName, f: ClientFields): Buffer {
  return encodeDhcp(clientMessage(type, f));
}
