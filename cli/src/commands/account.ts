/**
 * `storm account ssh-keys [ls|add FILE|rm N]`: the caller's own SSH public keys
 * (`/api/v1/account/ssh-keys`), which cloud-init installs in every traditional instance they launch.
 */
import { readFile } from 'node:fs/promises';
import { parseCommand } from '../args.js';
import type { CommandSpec } from '../command.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { serviceCall } from '../service-api.js';
import { table } from '../table.js';
import type { AccountSshKeys } from '../views.js';

const WHAT = 'account';
const PATH = '/account/ssh-keys';

/** A key's type and comment, shortened: the middle is base64 nobody reads. */
function keyRow(key: string, i: number): string[] {
  const [type = '', body = '', ...comment] = key.split(' ');
  return [String(i + 1), type, `${body.slice(0, 12)}…${body.slice(-8)}`, comment.join(' ') || '-'];
}

function keysText(keys: readonly string[]): string {
  if (!keys.length) return 'no SSH keys (storm account ssh-keys add ~/.ssh/id_ed25519.pub adds one)\n';
  return table(['#', 'TYPE', 'KEY', 'COMMENT'], keys.map(keyRow));
}

/** The public keys in FILE (an authorized_keys-style file: one per line, # comments), or FILE itself when it is a key. */
async function keysFrom(arg: string): Promise<string[]> {
  const text = /^(ssh-|ecdsa-|sk-)/.test(arg)
    ? arg
    : await readFile(arg, 'utf8').catch((err: NodeJS.ErrnoException) => {
        throw new UsageError(`${arg}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
      });
  const keys = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  if (!keys.length) throw new UsageError(`${arg}: no public key in it`);
  const secret = keys.find((k) => k.includes('PRIVATE KEY'));
  if (secret) throw new UsageError(`${arg} is a private key: give the .pub file`);
  return keys;
}

async function run(ctx: CliContext, sub: string | undefined, rest: readonly string[]): Promise<number> {
  switch (sub) {
    case 'ls':
    case undefined: {
      parseCommand(rest, {}, { min: 0, max: 0 });
      const { keys } = await serviceCall(WHAT, () => ctx.api.get<AccountSshKeys>(PATH));
      ctx.print({ keys }, keysText(keys));
      return 0;
    }
    case 'add': {
      const { positionals } = parseCommand(rest, {}, { min: 1, max: 1 });
      const added = await keysFrom(positionals[0]!);
      const { keys } = await serviceCall(WHAT, () => ctx.api.get<AccountSshKeys>(PATH));
      const next = [...keys, ...added.filter((k) => !keys.includes(k))];
      const saved = await serviceCall(WHAT, () => ctx.api.put<AccountSshKeys>(PATH, { keys: next }));
      ctx.print(saved, `${saved.keys.length} SSH key(s); instances launched from now on get them\n`);
      return 0;
    }
    case 'rm': {
      const { positionals } = parseCommand(rest, {}, { min: 1, max: 1 });
      const n = Number(positionals[0]);
      const { keys } = await serviceCall(WHAT, () => ctx.api.get<AccountSshKeys>(PATH));
      if (!Number.isInteger(n) || n < 1 || n > keys.length)
        throw new UsageError(`${positionals[0]}: give the key's number from storm account ssh-keys (1 to ${keys.length})`);
      const saved = await serviceCall(WHAT, () => ctx.api.put<AccountSshKeys>(PATH, { keys: keys.filter((_, i) => i !== n - 1) }));
      ctx.print(saved, `${saved.keys.length} SSH key(s) left; running instances keep what they were given\n`);
      return 0;
    }
    default:
      throw new UsageError(`unknown account ssh-keys command ${JSON.stringify(sub)} (known: ls, add, rm)`);
  }
}

export const account: CommandSpec = {
  name: 'account',
  usage: ['account ssh-keys [ls]', 'account ssh-keys add FILE|KEY', 'account ssh-keys rm N'],
  summary: 'your SSH public keys, which cloud-init installs in every traditional instance you launch',
  details: `  ssh-keys [ls]          your keys, numbered
  ssh-keys add FILE|KEY  add the public keys in FILE (one per line, as in authorized_keys), or KEY itself
  ssh-keys rm N          remove key number N

A launch adds its own keys besides these: storm launch NAME INSTANCE --ssh-key FILE.

example: storm account ssh-keys add ~/.ssh/id_ed25519.pub`,
  async run(ctx, args) {
    const [group, sub, ...rest] = args;
    if (group !== 'ssh-keys') throw new UsageError(`unknown account command ${JSON.stringify(group)} (known: ssh-keys)`);
    return run(ctx, sub, rest);
  },
};
