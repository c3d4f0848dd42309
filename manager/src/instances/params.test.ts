import { describe, expect, it } from 'vitest';
import type { Parameter } from '../../../channels/src/format/index.js';
import { resolveParams } from './params.js';

const declared: Parameter[] = [
  { name: 'greeting', type: 'string', description: 'what it says', default: 'Hello', pattern: '[A-Za-z ]{1,20}' },
  { name: 'workers', type: 'integer', description: 'how many', min: 1, max: 8 },
  { name: 'debug', type: 'boolean', description: 'verbose', default: false },
];

describe('resolveParams', () => {
  it('fills defaults and coerces declared types', () => {
    expect(resolveParams(declared, { workers: '4' })).toEqual({ greeting: 'Hello', workers: 4, debug: false });
    expect(resolveParams(declared, { workers: 2, debug: 'true', greeting: 'Hi there' })).toEqual({
      greeting: 'Hi there',
      workers: 2,
      debug: true,
    });
  });

  it('lists every problem: unknown, required, type, bounds, pattern', () => {
    expect(() => resolveParams(declared, { nope: 1 })).toThrow(/nope: not a parameter.*workers: required/);
    expect(() => resolveParams(declared, { workers: 9 })).toThrow(/at most 8/);
    expect(() => resolveParams(declared, { workers: 1.5 })).toThrow(/integer/);
    expect(() => resolveParams(declared, { workers: 1, greeting: 'Hi!' })).toThrow(/must match/);
    expect(() => resolveParams(declared, { workers: 1, greeting: 'Hi\u0007' })).toThrow(/control|match/);
    expect(() => resolveParams(declared, { workers: 1, debug: 'yes' })).toThrow(/true or false/);
  });
});
