import { describe, expect, it } from 'vitest';
import { ApplErr } from './errors.js';

describe('ApplErr', () => {
  it('names every code after its key, with the APPL_ERR_ prefix', () => {
    for (const [key, factory] of Object.entries(ApplErr)) {
      expect(factory.code).toBe(key);
      expect(key.startsWith('APPL_ERR_')).toBe(true);
    }
  });
});
