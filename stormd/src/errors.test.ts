import { describe, expect, it } from 'vitest';
import { StormError } from '../../common/errors.js';
import { StormdErr } from './errors.js';

describe('stormd error catalog', () => {
  it('gives every factory a code equal to its key, with the STORMD_ERR_ prefix', () => {
    for (const [key, factory] of Object.entries(StormdErr)) {
      expect(factory.code).toBe(key);
      expect(key).toMatch(/^STORMD_ERR_[A-Z_]+$/);
    }
  });

  it('uses HTTP error statuses only', () => {
    for (const factory of Object.values(StormdErr)) {
      expect(factory.status).toBeGreaterThanOrEqual(400);
      expect(factory.status).toBeLessThan(600);
    }
  });

  it('names the domain in an unknown-domain error', () => {
    const err = StormdErr.STORMD_ERR_DOMAIN_NOT_FOUND('storm-x');
    expect(err).toBeInstanceOf(StormError);
    expect(err.statusCode).toBe(404);
    expect(err.toJSON()).toEqual({ code: 'STORMD_ERR_DOMAIN_NOT_FOUND', message: 'unknown domain: storm-x' });
  });
});
