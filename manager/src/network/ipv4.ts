/**
 * IPv4 helpers of the appliance network, its DHCP and DNS servers included: dotted quads as
 * 32-bit unsigned integers, CIDR parsing and the reverse-lookup name of an address.
 *
 * @example
 * const net = parseCidr('10.77.0.0/24'); // { network: 0x0a4d0000, prefix: 24, mask: 0xffffff00 }
 * inCidr(ipToInt('10.77.0.9'), net);     // true
 * reverseName('10.77.0.9');              // '9.0.77.10.in-addr.arpa'
 */

export interface Cidr {
  readonly network: number;
  readonly prefix: number;
  readonly mask: number;
}

const QUAD = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** The address as an unsigned 32-bit integer, or undefined when it is not a dotted quad. */
export function tryIpToInt(ip: string): number | undefined {
  const m = QUAD.exec(ip);
  if (!m) return undefined;
  let n = 0;
  for (let i = 1; i <= 4; i++) {
    const octet = Number(m[i]);
    if (octet > 255) return undefined;
    n = n * 256 + octet;
  }
  return n;
}

export function ipToInt(ip: string): number {
  const n = tryIpToInt(ip);
  if (n === undefined) throw new Error(`not an IPv4 address: ${JSON.stringify(ip)}`);
  return n;
}

export function intToIp(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

export function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** Parses `A.B.C.D/N`; the host bits are cleared. */
export function parseCidr(cidr: string): Cidr {
  const [addr, bits, extra] = cidr.split('/');
  const prefix = Number(bits);
  if (extra !== undefined || addr === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > 32) {
    throw new Error(`not an IPv4 CIDR: ${JSON.stringify(cidr)}`);
  }
  const mask = maskOf(prefix);
  return { network: (ipToInt(addr) & mask) >>> 0, prefix, mask };
}

export function inCidr(ip: number, cidr: Cidr): boolean {
  return (ip & cidr.mask) >>> 0 === cidr.network;
}

/** The subnet's directed broadcast address (all host bits set). */
export function broadcastOf(cidr: Cidr): number {
  return (cidr.network | (~cidr.mask >>> 0)) >>> 0;
}

/** `9.0.77.10.in-addr.arpa` for `10.77.0.9`. */
export function reverseName(ip: string): string {
  return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
}

/** The address named by a full `in-addr.arpa` name, or undefined for anything else. */
export function addressOfReverseName(name: string): string | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.in-addr\.arpa$/i.exec(name);
  if (!m) return undefined;
  const ip = `${m[4]}.${m[3]}.${m[2]}.${m[1]}`;
  return tryIpToInt(ip) === undefined ? undefined : ip;
}

/** Writes four octets of `ip` at `offset`. */
export function writeIp(buf: Buffer, ip: string, offset: number): void {
  buf.writeUInt32BE(ipToInt(ip), offset);
}

export function readIp(buf: Buffer, offset: number): string {
  return intToIp(buf.readUInt32BE(offset));
}
