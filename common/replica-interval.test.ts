import { describe, expect, it } from 'vitest';
import { intervalText, parseInterval } from './replica-interval.js';

describe('replication intervals', () => {
  it('reads seconds, with or without a unit', () => {
    expect(parseInterval('90')).toBe(90);
    expect(parseInterval('90s')).toBe(90);
    expect(parseInterval('15m')).toBe(900);
    expect(parseInterval('1H')).toBe(3600);
    expect(parseInterval('2d')).toBe(172_800);
  });

  it('refuses anything else', () => {
    for (const bad of ['', 'm', '1.5h', '-1m', '1w', '1h30m', '12345678']) expect(parseInterval(bad), bad).toBeUndefined();
  });

  it('writes the largest unit that divides it', () => {
    expect(intervalText(10)).toBe('10s');
    expect(intervalText(90)).toBe('90s');
    expect(intervalText(900)).toBe('15m');
    expect(intervalText(7200)).toBe('2h');
    expect(intervalText(86_400)).toBe('1d');
  });
});
