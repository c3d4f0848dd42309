import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from './commands.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, runCli } from './run.js';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, {}, { out: (l) => out.push(l), err: (l) => err.push(l), stopped: Promise.resolve('SIGTERM') });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('storm-channel arguments', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'chan-cli-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prints help for the tool and for every command, exit 0', async () => {
    expect((await run('--help')).out).toMatch(/keygen.*\n.*build.*\n.*serve/);
    for (const c of COMMANDS) {
      const r = await run(c.name, '--help');
      expect(r.code).toBe(EXIT_OK);
      expect(r.out).toContain(c.usage);
      for (const o of Object.values(c.options)) expect(r.out).toContain(`--${o.flag}`);
    }
  });

  it.each([
    [[], /usage: storm-channel </],
    [['frob'], /unknown command "frob"/],
    [['build'], /missing SRC, --out DIR, --base-url URL, --key FILE/],
    [['build', 'a', 'b', '--out', 'o', '--base-url', 'http://x/', '--key', 'k'], /unexpected argument "b"/],
    [['keygen', '--out', 'x', '--bogus'], /Unknown option '--bogus'/],
    [['serve', 'd', '--port', 'eighty'], /--port .*cannot read "eighty" as integer/],
    [['serve', 'd', '--port', '70000'], /--port: must be <= 65535/],
    [['build', 'src', '--out', 'o', '--base-url', 'file:///x', '--key', 'k'], /CHAN_ERR_BASE_URL_INVALID/],
  ])('exits 2 on usage errors: %j', async (argv, pattern) => {
    const r = await run(...argv);
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.err).toMatch(pattern);
  });

  it('exits 1 with a CHAN_ERR_* code on failures', async () => {
    expect((await run('keygen', '--out', dir)).code).toBe(EXIT_OK);
    const again = await run('keygen', '--out', dir);
    expect(again.code).toBe(EXIT_FAILURE);
    expect(again.err).toMatch(/CHAN_ERR_KEY_EXISTS/);
    const missing = await run('serve', join(dir, 'nope'), '--port', '0');
    expect(missing.code).toBe(EXIT_FAILURE);
    expect(missing.err).toMatch(/CHAN_ERR_SERVE_DIR/);
  });

  it('serves until asked to stop', async () => {
    const r = await run('serve', dir, '--port', '0');
    expect(r.code).toBe(EXIT_OK);
    expect(r.out).toMatch(/serving .* at http:\/\/127\.0\.0\.1:\d+\/\nSIGTERM: stopping/);
  });
});
