import { describe, expect, it } from 'vitest';
import {
  BOOTREPLY,
  BOOTREQUEST,
  chaddrOf,
  decodeDhcp,
  type DhcpMessage,
  encodeDhcp,
  FLAG_BROADCAST,
  MAGIC_COOKIE,
  macOf,
} from './codec.js';
import { ip, ips, MessageType, Opt, readIp, readIpList, readString, readU32, readU8, str, u32, u8 } from './options.js';

/** The DISCOVER of Wireshark's sample capture `dhcp.pcap` (RFC 2131 §4.4.1), built byte by byte. */
function sampleDiscover(): Buffer {
  const b = Buffer.alloc(272);
  b.set([1, 1, 6, 0], 0); // op BOOTREQUEST, htype Ethernet, hlen 6, hops 0
  b.writeUInt32BE(0x00003d1d, 4);
  b.set([0x00, 0x0b, 0x82, 0x01, 0xfc, 0x42], 28);
  b.writeUInt32BE(MAGIC_COOKIE, 236);
  const opts = [53, 1, 1, 61, 7, 1, 0x00, 0x0b, 0x82, 0x01, 0xfc, 0x42, 50, 4, 0, 0, 0, 0, 55, 4, 1, 3, 6, 42, 255];
  b.set(opts, 240);
  return b;
}

function reply(options: Map<number, Buffer>): DhcpMessage {
  return {
    op: BOOTREPLY,
    htype: 1,
    hlen: 6,
    hops: 0,
    xid: 0xdeadbeef,
    secs: 0,
    flags: FLAG_BROADCAST,
    ciaddr: '0.0.0.0',
    yiaddr: '10.77.0.9',
    siaddr: '10.77.0.1',
    giaddr: '0.0.0.0',
    chaddr: chaddrOf('52:54:00:aa:bb:cc'),
    sname: 'storm',
    file: '',
    options,
  };
}

describe('decodeDhcp', () => {
  it('reads a client DISCOVER: header, hardware address and options', () => {
    const out = decodeDhcp(sampleDiscover());
    expect(out.ok).toBe(true);
    if (!out.ok) return;
    const m = out.message;
    expect(m.op).toBe(BOOTREQUEST);
    expect(m.xid).toBe(0x3d1d);
    expect(macOf(m)).toBe('00:0b:82:01:fc:42');
    expect(readU8(m.options, Opt.MESSAGE_TYPE)).toBe(MessageType.DISCOVER);
    expect(readIp(m.options, Opt.REQUESTED_IP)).toBe('0.0.0.0');
    expect([...m.options.get(Opt.PARAMETER_LIST)!]).toEqual([1, 3, 6, 42]);
    expect(m.options.get(Opt.CLIENT_ID)!.toString('hex')).toBe('01000b8201fc42');
  });

  it('skips pad options and concatenates a repeated option (RFC 3396)', () => {
    const b = sampleDiscover();
    b.set([0, 0, 53, 1, 3, 12, 3, 0x77, 0x65, 0x62, 0, 12, 2, 0x31, 0x00, 255], 240);
    const out = decodeDhcp(b);
    expect(out.ok && readString(out.message.options, Opt.HOSTNAME)).toBe('web1');
  });

  it.each([
    ['short packet', (b: Buffer) => b.subarray(0, 239)],
    ['oversized packet', () => Buffer.alloc(5000)],
    [
      'bad op',
      (b: Buffer) => {
        b[0] = 3;
        return b;
      },
    ],
    [
      'bad hlen',
      (b: Buffer) => {
        b[2] = 17;
        return b;
      },
    ],
    [
      'no magic cookie',
      (b: Buffer) => {
        b.writeUInt32BE(0x01020304, 236);
        return b;
      },
    ],
    [
      'overruns',
      (b: Buffer) => {
        b.set([53, 40], 240);
        return b.subarray(0, 260);
      },
    ],
    [
      'length past the end',
      (b: Buffer) => {
        b.fill(0, 240);
        b[b.length - 1] = 12;
        return b;
      },
    ],
    [
      'without an end',
      (b: Buffer) => {
        b.fill(0, 240);
        b.set([53, 1, 1], 240);
        return b;
      },
    ],
    [
      'overload',
      (b: Buffer) => {
        b.set([52, 1, 3, 255], 240);
        return b;
      },
    ],
  ])('refuses a packet with %s', (reason, mutate) => {
    const out = decodeDhcp(mutate(sampleDiscover()));
    expect(out.ok).toBe(false);
    if (!out.ok) expect(out.reason).toContain(reason);
  });

  it('reads sname and file as NUL-terminated strings', () => {
    const b = sampleDiscover();
    b.write('boot-server', 44, 'latin1');
    b.write('pxelinux.0', 108, 'latin1');
    const out = decodeDhcp(b);
    expect(out.ok && [out.message.sname, out.message.file]).toEqual(['boot-server', 'pxelinux.0']);
  });
});

describe('encodeDhcp', () => {
  it('round-trips an OFFER with the options STORM sends', () => {
    const options = new Map<number, Buffer>([
      [Opt.MESSAGE_TYPE, u8(MessageType.OFFER)],
      [Opt.SERVER_ID, ip('10.77.0.1')],
      [Opt.LEASE_TIME, u32(3600)],
      [Opt.SUBNET_MASK, ip('255.255.255.0')],
      [Opt.ROUTER, ips(['10.77.0.1'])],
      [Opt.DNS_SERVERS, ips(['10.77.0.1', '10.77.0.2'])],
      [Opt.HOSTNAME, str('web1')],
      [Opt.DOMAIN_NAME, str('storm.internal')],
    ]);
    const bytes = encodeDhcp(reply(options));
    expect(bytes.length).toBe(300);
    const out = decodeDhcp(bytes);
    expect(out.ok).toBe(true);
    if (!out.ok) return;
    const m = out.message;
    expect([m.op, m.xid, m.flags, m.yiaddr, m.siaddr, m.sname]).toEqual([
      BOOTREPLY,
      0xdeadbeef,
      FLAG_BROADCAST,
      '10.77.0.9',
      '10.77.0.1',
      'storm',
    ]);
    expect(macOf(m)).toBe('52:54:00:aa:bb:cc');
    expect(readU32(m.options, Opt.LEASE_TIME)).toBe(3600);
    expect(readIpList(m.options, Opt.DNS_SERVERS)).toEqual(['10.77.0.1', '10.77.0.2']);
    expect(readString(m.options, Opt.DOMAIN_NAME)).toBe('storm.internal');
    expect([...m.options.keys()]).toEqual([...options.keys()]);
  });

  it('splits an option longer than 255 bytes and reads it back whole', () => {
    const long = Buffer.alloc(600, 0x61);
    const out = decodeDhcp(
      encodeDhcp(
        reply(
          new Map([
            [Opt.MESSAGE_TYPE, u8(MessageType.ACK)],
            [Opt.MESSAGE, long],
          ]),
        ),
      ),
    );
    expect(out.ok && out.message.options.get(Opt.MESSAGE)!.equals(long)).toBe(true);
  });

  it('ends the options with END (RFC 2131 §3)', () => {
    const bytes = encodeDhcp(reply(new Map([[Opt.MESSAGE_TYPE, u8(MessageType.NAK)]])));
    expect([...bytes.subarray(240, 244)]).toEqual([53, 1, 6, 255]);
  });
});

describe('option readers', () => {
  it('answer undefined for a wrongly sized option', () => {
    const opts = new Map([
      [Opt.MESSAGE_TYPE, Buffer.from([1, 2])],
      [Opt.ROUTER, Buffer.from([1, 2, 3])],
      [Opt.HOSTNAME, Buffer.from([0x01])],
    ]);
    expect(readU8(opts, Opt.MESSAGE_TYPE)).toBeUndefined();
    expect(readIpList(opts, Opt.ROUTER)).toBeUndefined();
    expect(readString(opts, Opt.HOSTNAME)).toBeUndefined();
  });
});
