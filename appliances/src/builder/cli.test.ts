import { describe, expect, it } from 'vitest';
import { runApplianceCli } from './cli.js';

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runApplianceCli(argv, {}, { out: (s) => void (out += `${s}\n`), err: (s) => void (err += `${s}\n`) }, '/nowhere');
  return { code, out, err };
}

describe('storm-appliance command line', () => {
  it('prints help on --help (0) and usage without a command (2)', async () => {
    expect(await cli('--help')).toMatchObject({ code: 0, out: expect.stringContaining('usage: storm-appliance build RECIPE --out DIR') });
    expect(await cli('build', '--help')).toMatchObject({ code: 0, out: expect.stringContaining('--boot DIR') });
    expect(await cli()).toMatchObject({ code: 2, err: expect.stringContaining('usage:') });
  });

  it('refuses what it cannot run with exit 2', async () => {
    expect(await cli('make')).toMatchObject({ code: 2, err: expect.stringContaining('unknown command "make"') });
    expect(await cli('build', '--out', 'x')).toMatchObject({ code: 2, err: expect.stringContaining('missing RECIPE') });
    expect(await cli('build', 'r')).toMatchObject({ code: 2, err: expect.stringContaining('missing --out DIR') });
    expect(await cli('build', 'a', 'b', '--out', 'x')).toMatchObject({ code: 2, err: expect.stringContaining('exactly one RECIPE') });
    expect(await cli('build', 'a', '--bogus')).toMatchObject({ code: 2 });
  });

  it('reports a bad recipe by its code with exit 1', async () => {
    expect(await cli('build', '/nowhere/recipe', '--out', '/nowhere/out')).toMatchObject({
      code: 1,
      err: expect.stringMatching(/^storm-appliance build: APPL_ERR_RECIPE_INVALID: /),
    });
  });
});
