/**
 * Questions to the administrator: confirmations of destructive commands and secrets. Both read a
 * terminal only; without one, a confirmation needs `--yes` and a secret is the first line of stdin.
 *
 * @example
 * await confirm(ctx, { yes: false, question: 'Destroy web1?', what: 'storm rm web1' });
 * const password = await readSecret(ctx, 'Password: ');
 */
import { createInterface } from 'node:readline/promises';
import type { CliContext } from './context.js';
import { cliError, UsageError } from './errors.js';

/** Throws the usage error at once when confirmation is needed and nobody can give it (call it before any request). */
export function assertConfirmable(ctx: Pick<CliContext, 'stdin'>, yes: boolean, what: string): void {
  // A script must say so explicitly: a pipe's next line is no answer.
  if (!yes && !ctx.stdin.isTTY) throw new UsageError(`${what} needs confirmation and stdin is not a terminal: pass --yes`);
}

export async function confirm(
  ctx: Pick<CliContext, 'stdin' | 'err'>,
  opts: { yes: boolean; question: string; what: string },
): Promise<void> {
  if (opts.yes) return;
  assertConfirmable(ctx, opts.yes, opts.what);
  const rl = createInterface({ input: ctx.stdin, output: ctx.err });
  try {
    const answer = await rl.question(`${opts.question} [y/N] `);
    if (!/^y(es)?$/i.test(answer.trim())) throw cliError('CLI_ERR_NOT_CONFIRMED', 'not confirmed; nothing changed');
  } finally {
    rl.close();
  }
}

/** A secret: typed without echo on a terminal (asked twice when `twice`), else stdin's first line. */
export async function readSecret(ctx: Pick<CliContext, 'stdin' | 'err'>, prompt: string, twice = false): Promise<string> {
  if (!ctx.stdin.isTTY) return firstLine(ctx.stdin);
  const first = await readHidden(ctx, prompt);
  if (twice && (await readHidden(ctx, 'Again: ')) !== first) throw new UsageError('the two entries differ');
  return first;
}

async function firstLine(stdin: NodeJS.ReadStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stdin) {
    chunks.push(c as Buffer);
    if ((c as Buffer).includes(10)) break;
  }
  return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
}

function readHidden(ctx: Pick<CliContext, 'stdin' | 'err'>, prompt: string): Promise<string> {
  const { stdin, err } = ctx;
  err.write(prompt);
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.resume();
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = () => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      err.write('\n');
    };
    const onData = (s: string) => {
      for (const ch of s) {
        if (ch === '\r' || ch === '\n') {
          finish();
          resolve(value);
          return;
        }
        if (ch === '\u0003') {
          finish();
          reject(cliError('CLI_ERR_NOT_CONFIRMED', 'interrupted; nothing changed'));
          return;
        }
        value = ch === '\u007f' || ch === '\b' ? value.slice(0, -1) : value + ch;
      }
    };
    stdin.on('data', onData);
  });
}
