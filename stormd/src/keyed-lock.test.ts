import { describe, expect, it } from 'vitest';
import { KeyedLock } from './keyed-lock.js';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('KeyedLock', () => {
  it('serialises one key, runs others in parallel, survives failures and forgets idle keys', async () => {
    const lock = new KeyedLock();
    const order: string[] = [];
    const a1 = lock.run('a', async () => {
      await tick(30);
      order.push('a1');
      throw new Error('a1 failed');
    });
    const a2 = lock.run('a', async () => {
      order.push('a2');
      return 2;
    });
    const b1 = lock.run('b', async () => {
      order.push('b1');
      return 1;
    });
    await expect(a1).rejects.toThrow('a1 failed');
    expect(await a2).toBe(2);
    expect(await b1).toBe(1);
    expect(order).toEqual(['b1', 'a1', 'a2']);
    await tick(0);
    expect(lock.size).toBe(0);
  });
});
