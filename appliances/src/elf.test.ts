import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isStaticElf } from './elf.js';

describe('isStaticElf', () => {
  it('tells the static busybox from a dynamic executable', () => {
    expect(isStaticElf(readFileSync('/bin/busybox'))).toBe(true);
    expect(isStaticElf(readFileSync(process.execPath))).toBe(false);
  });

  it('rejects what is not ELF', () => {
    expect(() => isStaticElf(Buffer.from('#!/bin/sh\n'.padEnd(80)))).toThrow(/not an ELF/);
  });
});
