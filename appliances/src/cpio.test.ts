import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type CpioEntry, readCpio, writeCpio } from './cpio.js';
import { ApplErr } from './errors.js';

const entries: CpioEntry[] = [
  { type: 'file', path: 'bin/busybox', mode: 0o755, data: Buffer.from('#!/bin/sh\necho hi\n') },
  { type: 'dir', path: 'bin', mode: 0o755 },
  { type: 'symlink', path: 'bin/sh', target: 'busybox' },
  { type: 'dir', path: 'dev', mode: 0o755 },
  { type: 'char', path: 'dev/console', mode: 0o600, major: 5, minor: 1 },
  { type: 'file', path: 'init', mode: 0o755, data: Buffer.from('odd length!') },
];

describe('writeCpio', () => {
  it('gives the same bytes whatever the input order', () => {
    expect(writeCpio(entries).equals(writeCpio([...entries].reverse()))).toBe(true);
  });

  it('round-trips through readCpio in sorted order', () => {
    const back = readCpio(writeCpio(entries));
    expect(back.map((e) => e.path)).toEqual(['bin', 'bin/busybox', 'bin/sh', 'dev', 'dev/console', 'init']);
    expect(back[5]).toEqual(entries[5]);
    expect(back[4]).toEqual(entries[4]);
  });

  it('is read by GNU cpio with modes, link targets and contents intact', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cpio-test-'));
    try {
      // Device nodes need no privileges in the archive, but extracting one does; leave it out here.
      const archive = writeCpio(entries.filter((e) => e.type !== 'char' && e.path !== 'dev'));
      writeFileSync(join(dir, 'a.cpio'), archive);
      execFileSync('sh', ['-c', 'mkdir x && cd x && cpio -id --quiet < ../a.cpio'], { cwd: dir });
      expect(readFileSync(join(dir, 'x/init'), 'utf8')).toBe('odd length!');
      expect(readlinkSync(join(dir, 'x/bin/sh'))).toBe('busybox');
      expect(statSync(join(dir, 'x/bin/busybox')).mode & 0o777).toBe(0o755);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects a missing parent, a duplicate and an absolute path', () => {
    const file = (path: string): CpioEntry => ({ type: 'file', path, mode: 0o644, data: Buffer.alloc(0) });
    for (const bad of [[file('a/b')], [file('a'), file('a')], [file('/a')]]) {
      expect(() => writeCpio(bad)).toThrow(expect.objectContaining({ code: ApplErr.APPL_ERR_CPIO.code }));
    }
  });
});
