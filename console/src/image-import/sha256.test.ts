import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Sha256 } from './sha256.js';

const node = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('Sha256', () => {
  it('gives the standard digests of the empty string and "abc"', () => {
    expect(new Sha256().hex()).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(new Sha256().update(new TextEncoder().encode('abc')).hex()).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });

  it("matches node's digest at every length around a block's padding, fed in uneven pieces", () => {
    const data = randomBytes(300);
    for (let len = 0; len <= 200; len++) {
      const h = new Sha256();
      for (let i = 0; i < len; i += 1 + (i % 7)) h.update(data.subarray(i, Math.min(len, i + 1 + (i % 7))));
      expect(h.hex(), `length ${len}`).toBe(node(data.subarray(0, len)));
    }
  });

  it('hashes a megabyte in large pieces as node does', () => {
    const data = randomBytes(1 << 20);
    const h = new Sha256();
    for (let i = 0; i < data.length; i += 100_003) h.update(data.subarray(i, i + 100_003));
    expect(h.hex()).toBe(node(data));
  });
});
