import { describe, expect, it } from 'vitest';
import { MgrErr } from './errors.js';

describe('MgrErr catalog', () => {
  it('has codes equal to their keys, prefixed MGR_ERR_, with HTTP error statuses', () => {
    for (const [key, factory] of Object.entries(MgrErr)) {
      expect(factory.code).toBe(key);
      expect(key.startsWith('MGR_ERR_')).toBe(true);
      expect(factory.status).toBeGreaterThanOrEqual(400);
      expect(factory.status).toBeLessThan(600);
    }
  });
});
