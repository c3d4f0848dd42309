/**
 * The DHCP wire format (RFC 2131 §2, RFC 2132): the fixed BOOTP header, the magic cookie and the
 * option field. `decodeDhcp` never throws: any packet that breaks a bound or a rule comes back as
 * `{ ok: false, reason }` so the server can count and drop it. Option overload (52) is refused;
 * a repeated option is concatenated (RFC 3396).
 *
 * @example
 * const out = decodeDhcp(datagram);
 * if (out.ok) console.log(macOf(out.message), readU8(out.message.options, Opt.MESSAGE_TYPE));
 * const bytes = encodeDhcp({ ...reply, options: new Map([[Opt.MESSAGE_TYPE, u8(MessageType.OFFER)]]) });
 */
import { ipToInt, readIp } from '../../network/ipv4.js';
import { type DhcpOptions, Opt } from './options.js';

export const BOOTREQUEST = 1;
export const BOOTREPLY = 2;
export const MAGIC_COOKIE = 0x63825363;
/** Header (236) + cookie (4). */
export const MIN_PACKET = 240;
/** Far above any real client's message; bounds the work one datagram can cause. */
export const MAX_PACKET = 4096;
/** BOOTP's minimum message; some clients drop shorter replies (RFC 1542 §2.1). */
export const MIN_REPLY = 300;
/** The broadcast bit of the flags field (RFC 2131 §2, figure 2). */
export const FLAG_BROADCAST = 0x8000;

export interface DhcpMessage {
  readonly op: number;
  readonly htype: number;
  readonly hlen: number;
  readonly hops: number;
  readonly xid: number;
  readonly secs: number;
  readonly flags: number;
  readonly ciaddr: string;
  readonly yiaddr: string;
  readonly siaddr: string;
  readonly giaddr: string;
  /** Always 16 bytes; the first `hlen` are the hardware address. */
  readonly chaddr: Buffer;
  readonly sname: string;
  readonly file: string;
  readonly options: DhcpOptions;
}

export type DecodeResult = { readonly ok: true; readonly message: DhcpMessage } | { readonly ok: false; readonly reason: string };

function cString(buf: Buffer, start: number, length: number): string {
  const end = buf.indexOf(0, start);
  return buf.toString('latin1', start, end === -1 || end > start + length ? start + length : end);
}

function decodeOptions(buf: Buffer): DhcpOptions | string {
  const options: DhcpOptions = new Map();
  let i = MIN_PACKET;
  while (i < buf.length) {
    const code = buf[i]!;
    if (code === Opt.PAD) {
      i++;
      continue;
    }
    if (code === Opt.END) return options;
    if (i + 1 >= buf.length) return 'option length past the end';
    const len = buf[i + 1]!;
    if (i + 2 + len > buf.length) return `option ${code} overruns the packet`;
    if (code === Opt.OVERLOAD) return 'option overload is not supported';
    const value = buf.subarray(i + 2, i + 2 + len);
    const prior = options.get(code);
    options.set(code, prior ? Buffer.concat([prior, value]) : Buffer.from(value));
    i += 2 + len;
  }
  return 'options without an end option';
}

export function decodeDhcp(buf: Buffer): DecodeResult {
  if (buf.length < MIN_PACKET) return { ok: false, reason: `short packet (${buf.length} bytes)` };
  if (buf.length > MAX_PACKET) return { ok: false, reason: `oversized packet (${buf.length} bytes)` };
  const op = buf[0]!;
  if (op !== BOOTREQUEST && op !== BOOTREPLY) return { ok: false, reason: `bad op ${op}` };
  const hlen = buf[2]!;
  if (hlen === 0 || hlen > 16) return { ok: false, reason: `bad hlen ${hlen}` };
  if (buf.readUInt32BE(236) !== MAGIC_COOKIE) return { ok: false, reason: 'no magic cookie' };
  const options = decodeOptions(buf);
  if (typeof options === 'string') return { ok: false, reason: options };
  return {
    ok: true,
    message: {
      op,
      htype: buf[1]!,
      hlen,
      hops: buf[3]!,
      xid: buf.readUInt32BE(4),
      secs: buf.readUInt16BE(8),
      flags: buf.readUInt16BE(10),
      ciaddr: readIp(buf, 12),
      yiaddr: readIp(buf, 16),
      siaddr: readIp(buf, 20),
      giaddr: readIp(buf, 24),
      chaddr: Buffer.from(buf.subarray(28, 44)),
      sname: cString(buf, 44, 64),
      file: cString(buf, 108, 128),
      options,
    },
  };
}

/** Encodes header, cookie and options (in the map's order, long ones split per RFC 3396), then END and padding to 300 bytes. */
export function encodeDhcp(msg: DhcpMessage): Buffer {
  let optionBytes = 1;
  for (const v of msg.options.values()) optionBytes += Math.max(1, Math.ceil(v.length / 255)) * 2 + v.length;
  const buf = Buffer.alloc(Math.max(MIN_REPLY, MIN_PACKET + optionBytes));
  buf[0] = msg.op;
  buf[1] = msg.htype;
  buf[2] = msg.hlen;
  buf[3] = msg.hops;
  buf.writeUInt32BE(msg.xid >>> 0, 4);
  buf.writeUInt16BE(msg.secs, 8);
  buf.writeUInt16BE(msg.flags, 10);
  buf.writeUInt32BE(ipToInt(msg.ciaddr), 12);
  buf.writeUInt32BE(ipToInt(msg.yiaddr), 16);
  buf.writeUInt32BE(ipToInt(msg.siaddr), 20);
  buf.writeUInt32BE(ipToInt(msg.giaddr), 24);
  msg.chaddr.copy(buf, 28, 0, 16);
  buf.write(msg.sname.slice(0, 63), 44, 'latin1');
  buf.write(msg.file.slice(0, 127), 108, 'latin1');
  buf.writeUInt32BE(MAGIC_COOKIE, 236);
  let i = MIN_PACKET;
  for (const [code, value] of msg.options) {
    if (code === Opt.PAD || code === Opt.END) continue;
    let at = 0;
    do {
      const chunk = value.subarray(at, at + 255);
      buf[i++] = code;
      buf[i++] = chunk.length;
      chunk.copy(buf, i);
      i += chunk.length;
      at += 255;
    } while (at < value.length);
  }
  buf[i] = Opt.END;
  return buf;
}

/** `aa:bb:cc:dd:ee:ff` (lower case) for Ethernet; the hex of the first hlen bytes otherwise. */
export function macOf(msg: DhcpMessage): string {
  const hw = msg.chaddr.subarray(0, msg.hlen);
  return [...hw].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** The 16-byte chaddr field for a `aa:bb:…` address. */
export function chaddrOf(mac: string): Buffer {
  const out = Buffer.alloc(16);
  const bytes = mac.split(':').map((h) => Number.parseInt(h, 16));
  if (bytes.length > 16 || bytes.some((b) => !Number.isInteger(b) || b < 0 || b > 255)) throw new Error(`not a hardware address: ${mac}`);
  Buffer.from(bytes).copy(out);
  return out;
}
