import { describe, expect, it } from 'vitest';
import { PkiErr } from './errors.js';

describe('PkiErr catalog', () => {
  it('has codes equal to their keys, prefixed MGR_ERR_PKI_, with HTTP error statuses', () => {
    for (const [key, factory] of Object.entries(PkiErr)) {
      expect(factory.code).toBe(key);
      expect(key.startsWith('MGR_ERR_PKI_')).toBe(true);
      expect(factory.status).toBeGreaterThanOrEqual(400);
      expect(factory.status).toBeLessThan(600);
    }
  });
});
