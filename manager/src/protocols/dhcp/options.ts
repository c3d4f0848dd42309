/**
 * DHCP option codes (RFC 2132) and typed readers and writers for option payloads. Readers return
 * undefined for a missing or wrongly sized option, so a bad option is never half-read.
 *
 * @example
 * const opts = new Map([[Opt.MESSAGE_TYPE, u8(MessageType.ACK)], [Opt.ROUTER, ips(['10.0.0.1'])]]);
 * readIpList(opts, Opt.ROUTER); // ['10.0.0.1']
 */
import { intToIp, ipToInt } from '../../network/ipv4.js';

export const Opt = {
  PAD: 0,
  SUBNET_MASK: 1,
  ROUTER: 3,
  DNS_SERVERS: 6,
  HOSTNAME: 12,
  DOMAIN_NAME: 15,
  BROADCAST_ADDRESS: 28,
  REQUESTED_IP: 50,
  LEASE_TIME: 51,
  OVERLOAD: 52,
  MESSAGE_TYPE: 53,
  SERVER_ID: 54,
  PARAMETER_LIST: 55,
  MESSAGE: 56,
  MAX_MESSAGE_SIZE: 57,
  RENEWAL_TIME: 58,
  REBINDING_TIME: 59,
  CLIENT_ID: 61,
  END: 255,
} as const;

export const MessageType = {
  DISCOVER: 1,
  OFFER: 2,
  REQUEST: 3,
  DECLINE: 4,
  ACK: 5,
  NAK: 6,
  RELEASE: 7,
  INFORM: 8,
} as const;

export type MessageTypeName = keyof typeof MessageType;
export type DhcpOptions = Map<number, Buffer>;

export function u8(n: number): Buffer {
  return Buffer.from([n & 255]);
}

export function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

export function ip(address: string): Buffer {
  return u32(ipToInt(address));
}

export function ips(addresses: readonly string[]): Buffer {
  return Buffer.concat(addresses.map(ip));
}

export function str(s: string): Buffer {
  return Buffer.from(s, 'ascii');
}

export function readU8(opts: DhcpOptions, code: number): number | undefined {
  const v = opts.get(code);
  return v && v.length === 1 ? v[0] : undefined;
}

export function readU32(opts: DhcpOptions, code: number): number | undefined {
  const v = opts.get(code);
  return v && v.length === 4 ? v.readUInt32BE(0) : undefined;
}

export function readIp(opts: DhcpOptions, code: number): string | undefined {
  const n = readU32(opts, code);
  return n === undefined ? undefined : intToIp(n);
}

export function readIpList(opts: DhcpOptions, code: number): string[] | undefined {
  const v = opts.get(code);
  if (!v || v.length === 0 || v.length % 4 !== 0) return undefined;
  const out: string[] = [];
  for (let i = 0; i < v.length; i += 4) out.push(intToIp(v.readUInt32BE(i)));
  return out;
}

/** Printable ASCII only, trailing NULs dropped (some clients NUL-terminate host names). */
export function readString(opts: DhcpOptions, code: number): string | undefined {
  const v = opts.get(code);
  if (!v) return undefined;
  let end = v.length;
  while (end > 0 && v[end - 1] === 0) end--;
  const s = v.toString('latin1', 0, end);
  return /^[\x20-\x7e]*$/.test(s) ? s : undefined;
}

export function messageTypeName(type: number): MessageTypeName | undefined {
  for (const [name, value] of Object.entries(MessageType)) if (value === type) return name as MessageTypeName;
  return undefined;
}
