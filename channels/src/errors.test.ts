import { describe, expect, it } from 'vitest';
import { ChanErr } from './errors.js';

describe('ChanErr catalog', () => {
  it('gives every error the code of its key, with the CHAN_ERR_ prefix', () => {
    for (const [key, factory] of Object.entries(ChanErr)) {
      expect(factory.code).toBe(key);
      expect(key).toMatch(/^CHAN_ERR_[A-Z0-9_]+$/);
      expect(factory().code).toBe(key);
    }
  });

  it('maps every error to a 4xx or 5xx status', () => {
    for (const factory of Object.values(ChanErr)) expect(factory.status).toBeGreaterThanOrEqual(400);
  });
});
