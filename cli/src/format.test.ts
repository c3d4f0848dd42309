import { describe, expect, it } from 'vitest';
import { cell, fields, mib, relativeTime } from './format.js';

describe('format', () => {
  it('says how long ago, or how long until', () => {
    const now = Date.parse('2024-01-01T12:00:00Z');
    expect(relativeTime('2024-01-01T11:59:48Z', now)).toBe('12s ago');
    expect(relativeTime('2024-01-01T11:55:00Z', now)).toBe('5m ago');
    expect(relativeTime('2024-01-01T09:00:00Z', now)).toBe('3h ago');
    expect(relativeTime('2023-12-30T12:00:00Z', now)).toBe('2d ago');
    expect(relativeTime('2024-01-01T12:40:00Z', now)).toBe('in 40m');
    expect(relativeTime(null, now)).toBe('-');
  });

  it('gives memory in MiB below a GiB and binary units above', () => {
    expect(mib(128)).toBe('128 MiB');
    expect(mib(3072)).toBe('3.0 GiB');
    expect(mib(null)).toBeUndefined();
  });

  it('aligns key-value lines and shows absent values as -', () => {
    expect(
      fields([
        ['name', 'web1'],
        ['last error', null],
      ]),
    ).toBe('name        web1\nlast error  -\n');
  });

  it('puts lists and objects in one cell', () => {
    expect(cell(['a', 'b'])).toBe('a,b');
    expect(cell([{ name: 'staff', dn: 'cn=staff' }])).toBe('staff');
    expect(cell({ a: 1 })).toBe('{"a":1}');
    expect(cell(null)).toBeUndefined();
  });
});
