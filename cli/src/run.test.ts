import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseCommand } from './args.js';
import type { CommandSpec } from './command.js';
import { ApiError, UsageError } from './errors.js';
import { type CliIo, runCli, splitArgs } from './run.js';

const capture = () => {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (b: Buffer) => (text += b.toString()));
  return { stream: stream as unknown as NodeJS.WriteStream, text: () => text };
};

const echo: CommandSpec = {
  name: 'echo',
  usage: ['echo WORD [--twice]'],
  summary: 'says WORD',
  async run(ctx, args) {
    const { values, positionals } = parseCommand(args, { twice: { type: 'boolean' } }, { min: 1, max: 1 });
    if (positionals[0] === 'fail') throw new ApiError(404, 'MGR_ERR_NOT_FOUND', 'not found: fail');
    ctx.print({ word: positionals[0] }, values.twice ? `${positionals[0]} ${positionals[0]}` : positionals[0]!);
    return 0;
  },
};

async function run(...argv: string[]) {
  const out = capture();
  const err = capture();
  const io: CliIo = { out: out.stream, err: err.stream, stdin: process.stdin, env: { STORM_TOKEN: 't', STORM_URL: 'https://127.0.0.1:1' } };
  const code = await runCli([echo], argv, io);
  return { code, out: out.text(), err: err.text() };
}

describe('splitArgs', () => {
  it('takes global options before the command, --json and --help anywhere', () => {
    expect(splitArgs(['--url', 'https://m:1', '--data=/d', 'ls', '--json', 'x'])).toEqual({
      globals: { url: 'https://m:1', data: '/d' },
      json: true,
      help: false,
      command: 'ls',
      args: ['x'],
    });
    expect(splitArgs(['rm', 'web1', '--help'])).toMatchObject({ command: 'rm', help: true, args: ['web1'] });
    expect(() => splitArgs(['--bogus', 'ls'])).toThrow(UsageError);
    expect(() => splitArgs(['--url'])).toThrow(/needs a value/);
  });
});

describe('runCli', () => {
  it('runs the command, human or --json', async () => {
    expect(await run('echo', 'hi', '--twice')).toEqual({ code: 0, out: 'hi hi\n', err: '' });
    expect(JSON.parse((await run('--json', 'echo', 'hi')).out)).toEqual({ word: 'hi' });
  });

  it('prints help: the list, a command’s usage by help or --help', async () => {
    expect(await run()).toMatchObject({ code: 2, out: expect.stringMatching(/^usage: storm/) });
    expect(await run('--help')).toMatchObject({ code: 0, out: expect.stringMatching(/echo {2}says WORD/) });
    expect(await run('help', 'echo')).toEqual({ code: 0, out: 'usage: storm echo WORD [--twice]\n\nsays WORD\n', err: '' });
    expect((await run('echo', '--help')).out).toBe('usage: storm echo WORD [--twice]\n\nsays WORD\n');
  });

  it('usage errors exit 2 with the usage; failures print the code and exit 1', async () => {
    expect(await run('echo')).toEqual({
      code: 2,
      out: '',
      err: 'storm: missing arguments\nusage: storm echo WORD [--twice]\n(storm help echo says more)\n',
    });
    expect((await run('echo', 'a', '--loud')).code).toBe(2);
    expect((await run('nope')).err).toBe('storm: unknown command nope; storm help lists them\n');
    expect(await run('echo', 'fail')).toEqual({ code: 1, out: '', err: 'storm: MGR_ERR_NOT_FOUND: not found: fail\n' });
  });
});
