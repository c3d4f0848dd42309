import { describe, expect, it } from 'vitest';
import { LoginLimiter } from './login-limiter.js';

describe('LoginLimiter', () => {
  it('blocks an address after its limit until the oldest failure leaves the window', () => {
    let t = 0;
    const l = new LoginLimiter({ perAddress: 3, perUser: 100, windowMs: 60_000, now: () => t });
    for (let i = 0; i < 3; i++) {
      expect(l.retryAfter('10.0.0.1', 'admin')).toBe(0);
      l.failed('10.0.0.1', 'admin');
      t += 1000;
    }
    expect(l.retryAfter('10.0.0.1', 'admin')).toBe(57);
    expect(l.retryAfter('10.0.0.2', 'admin')).toBe(0);
    t = 60_001;
    expect(l.retryAfter('10.0.0.1', 'admin')).toBe(0);
  });

  it('blocks a username tried from many addresses, and a success clears the counts', () => {
    const l = new LoginLimiter({ perAddress: 100, perUser: 5, windowMs: 60_000, now: () => 0 });
    for (let i = 0; i < 5; i++) l.failed(`10.0.0.${i}`, 'admin');
    expect(l.retryAfter('10.9.9.9', 'admin')).toBe(60);
    expect(l.retryAfter('10.9.9.9', 'other')).toBe(0);
    l.succeeded('10.9.9.9', 'admin');
    expect(l.retryAfter('10.9.9.9', 'admin')).toBe(0);
  });

  it('remembers a bounded number of keys', () => {
    const l = new LoginLimiter({ perAddress: 1, maxKeys: 4, now: () => 0 });
    for (let i = 0; i < 10; i++) l.failed(`a${i}`, `u${i}`);
    expect(l.retryAfter('a0', 'x')).toBe(0);
    expect(l.retryAfter('a9', 'x')).toBeGreaterThan(0);
  });
});
