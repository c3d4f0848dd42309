import { describe, expect, it } from 'vitest';
import { LoginLimiter } from './login-limiter.js';

describe('LoginLimiter', () => {
  it('backs off one account at one address: a few free tries, then a doubling wait, capped', () => {
    let t = 0;
    const l = new LoginLimiter({ freePerPair: 3, freePerAddress: 100, baseDelayMs: 1000, maxDelayMs: 8000, now: () => t });
    for (let i = 0; i < 2; i++) l.failed('10.0.0.1', 'admin');
    expect(l.retryAfter('10.0.0.1', 'admin')).toBe(0);
    const waits: number[] = [];
    for (let i = 0; i < 6; i++) {
      l.failed('10.0.0.1', 'admin');
      const wait = l.retryAfter('10.0.0.1', 'admin');
      waits.push(wait);
      t += wait * 1000;
    }
    expect(waits).toEqual([1, 2, 4, 8, 8, 8]);
    expect(l.retryAfter('10.0.0.1', 'admin')).toBe(0);
  });

  it('never locks an account out of another address, whatever fails elsewhere', () => {
    const l = new LoginLimiter({ now: () => 0 });
    for (const from of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) for (let i = 0; i < 10; i++) l.failed(from, 'admin');
    for (const from of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) expect(l.retryAfter(from, 'admin')).toBeGreaterThan(0);
    expect(l.retryAfter('10.0.0.4', 'admin')).toBe(0);
  });

  it('slows one address trying many accounts, and a success clears only its pair', () => {
    const l = new LoginLimiter({ freePerPair: 5, freePerAddress: 4, now: () => 0 });
    for (let i = 0; i < 4; i++) l.failed('10.0.0.9', `user${i}`);
    expect(l.retryAfter('10.0.0.9', 'someone-else')).toBeGreaterThan(0);
    expect(l.retryAfter('10.0.0.8', 'someone-else')).toBe(0);
    l.succeeded('10.0.0.9', 'user0');
    expect(l.retryAfter('10.0.0.9', 'user0')).toBeGreaterThan(0);
  });

  it('forgets a pair after a quiet hour', () => {
    let t = 0;
    const l = new LoginLimiter({ freePerPair: 1, maxDelayMs: 10 * 3_600_000, now: () => t });
    for (let i = 0; i < 20; i++) l.failed('10.0.0.1', 'admin');
    expect(l.retryAfter('10.0.0.1', 'admin')).toBeGreaterThan(3600);
    t += 3_600_000;
    expect(l.retryAfter('10.0.0.1', 'admin')).toBe(0);
  });

  it('remembers a bounded number of keys', () => {
    const l = new LoginLimiter({ freePerPair: 1, freePerAddress: 1, maxKeys: 4, now: () => 0 });
    for (let i = 0; i < 10; i++) l.failed(`a${i}`, `u${i}`);
    expect(l.retryAfter('a0', 'u0')).toBe(0);
    expect(l.retryAfter('a9', 'u9')).toBeGreaterThan(0);
  });
});
