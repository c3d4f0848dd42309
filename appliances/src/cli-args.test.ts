import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCli } from './cli-args.js';
import { ApplErr } from './errors.js';
import { APPLIANCES_DIR } from './layers.js';

describe('parseCli', () => {
  it('defaults to appliances/build, no force', () => {
    expect(parseCli([], '/somewhere')).toEqual({
      help: false,
      options: { out: join(APPLIANCES_DIR, 'build'), force: false, debian: false },
    });
  });

  it('resolves --out against the working directory and reads --force', () => {
    expect(parseCli(['--out', 'x/y', '--force'], '/w')).toEqual({ help: false, options: { out: '/w/x/y', force: true, debian: false } });
    expect(parseCli(['--out', '/abs'], '/w')).toMatchObject({ options: { out: '/abs' } });
  });

  it('knows --help and --debian, refuses the unknown', () => {
    expect(parseCli(['--help'], '/w')).toEqual({ help: true });
    expect(parseCli(['--debian'], '/w')).toMatchObject({ options: { debian: true } });
    expect(() => parseCli(['--bogus'], '/w')).toThrow(expect.objectContaining({ code: ApplErr.APPL_ERR_USAGE.code }));
    expect(() => parseCli(['extra'], '/w')).toThrow(expect.objectContaining({ code: ApplErr.APPL_ERR_USAGE.code }));
  });
});
