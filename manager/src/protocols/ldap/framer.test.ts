import { describe, expect, it } from 'vitest';
import { FrameError, MessageFramer } from './framer.js';
import { bindRequest, msg } from './test-support/wire.js';

describe('MessageFramer', () => {
  const a = msg(1, bindRequest('uid=a,dc=x', 'pw'));
  const b = msg(2, bindRequest('uid=b,dc=x', 'x'.repeat(300)));

  it('cuts whole messages from one chunk, several chunks and single bytes', () => {
    expect(new MessageFramer(4096).push(Buffer.concat([a, b]))).toEqual([a, b]);
    const framer = new MessageFramer(4096);
    const all = Buffer.concat([a, b]);
    const out: Buffer[] = [];
    for (let i = 0; i < all.length; i++) out.push(...framer.push(all.subarray(i, i + 1)));
    expect(out).toEqual([a, b]);
    expect(framer.pending).toBe(0);
  });

  it('holds a partial message and reports how much it holds', () => {
    const framer = new MessageFramer(4096);
    expect(framer.push(b.subarray(0, 100))).toEqual([]);
    expect(framer.pending).toBe(100);
    expect(framer.push(b.subarray(100))).toEqual([b]);
  });

  it('refuses an oversize message from its header, before the body arrives', () => {
    const framer = new MessageFramer(200);
    expect(() => framer.push(b.subarray(0, 5))).toThrow(expect.objectContaining({ reason: 'too-large' }));
    expect(() => new MessageFramer(1 << 20).push(Buffer.from([0x30, 0x84, 0x7f, 0xff, 0xff, 0xff]))).toThrow(FrameError);
  });

  it('refuses what is not an LDAPMessage header', () => {
    for (const bytes of [
      [0x04, 0x01, 0x00],
      [0x30, 0x80],
      [0x30, 0x85, 1, 1, 1, 1, 1],
      [0xff, 0xff],
    ]) {
      expect(() => new MessageFramer(4096).push(Buffer.from(bytes)), bytes.join(',')).toThrow(
        expect.objectContaining({ reason: 'malformed' }),
      );
    }
  });
});
