import { describe, expect, it } from 'vitest';
import { HeldInput, rawBytes } from './held-input.js';

describe('HeldInput', () => {
  it('hands over what came before release in order, then each message as it comes', () => {
    const input = new HeldInput(1024);
    input.onMessage(Buffer.from('ab'), true);
    input.onMessage(Buffer.from('{"type":"takeover"}'), false);
    input.onMessage([Buffer.from('c'), Buffer.from('d')], true);
    const got: string[] = [];
    input.release((data, isBinary) => got.push(`${isBinary ? 'b' : 't'}:${rawBytes(data).toString()}`));
    expect(got).toEqual(['b:ab', 't:{"type":"takeover"}', 'b:cd']);
    input.onMessage(Buffer.from('e'), true);
    expect(got.at(-1)).toBe('b:e');
  });

  it('keeps at most its budget before release and drops the rest', () => {
    const input = new HeldInput(4);
    input.onMessage(Buffer.from('abc'), true);
    input.onMessage(Buffer.from('de'), true);
    input.onMessage(Buffer.from('f'), true);
    const got: string[] = [];
    input.release((data) => got.push(rawBytes(data).toString()));
    expect(got).toEqual(['abc']);
  });
});
