import { describe, expect, it } from 'vitest';
import { volumeSizeMiB } from './volume-size.js';

describe('volumeSizeMiB', () => {
  it('reads MiB, GiB and TiB with or without the i', () => {
    expect(volumeSizeMiB('64')).toBe(64);
    expect(volumeSizeMiB('512M')).toBe(512);
    expect(volumeSizeMiB('2G')).toBe(2048);
    expect(volumeSizeMiB('2GiB')).toBe(2048);
    expect(volumeSizeMiB('1t')).toBe(1024 * 1024);
  });

  it('refuses anything else', () => {
    for (const bad of ['', 'G', '1.5G', '2K', '-1G', '2 gigs']) expect(() => volumeSizeMiB(bad)).toThrow(/--size must be/);
  });
});
