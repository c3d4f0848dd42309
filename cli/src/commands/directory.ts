/**
 * `storm user ls|add|rm|passwd` and `storm group ls|add|rm|member add|rm`: the manager's directory
 * (`/api/v1/directory/users|groups`), which appliances authenticate against over LDAP.
 */
import { parseCommand } from '../args.js';
import type { CommandSpec } from '../command.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { assertConfirmable, confirm, readSecret } from '../prompt.js';
import { printList, serviceCall, serviceList } from '../service-api.js';

const USERS = '/directory/users';
const GROUPS = '/directory/groups';
const seg = encodeURIComponent;

export const user: CommandSpec = {
  name: 'user',
  usage: [
    'user ls',
    'user add UID [--name CN] [--surname SN] [--given-name NAME] [--email ADDRESS] [--group NAME]... [--no-password]',
    'user rm UID [--yes]',
    'user passwd UID',
  ],
  summary: 'directory users: list, add, remove, set a password',
  details: `The password (add, passwd) is asked twice without echo on a terminal; otherwise it is the
first line of stdin, so scripts can pipe it in. --no-password adds a user who cannot bind until
storm user passwd gives them one.

examples:
  storm user add alice --name "Alice Liddell" --surname Liddell --email alice@example.org --group staff
  printf '%s\\n' "$PASSWORD" | storm user passwd alice`,
  async run(ctx, args) {
    const [sub, ...rest] = args;
    switch (sub) {
      case 'ls':
      case undefined:
        parseCommand(rest, {}, { min: 0, max: 0 });
        printList(ctx, await serviceList(ctx, 'directory users', USERS), 'no users', [
          'uid',
          'cn',
          'mail',
          'uidNumber',
          'gidNumber',
          'memberOf',
          'hasPassword',
        ]);
        return 0;
      case 'add':
        return addUser(ctx, rest);
      case 'rm':
        return remove(ctx, rest, 'user', USERS);
      case 'passwd': {
        const { positionals } = parseCommand(rest, {}, { min: 1, max: 1 });
        const password = await newPassword(ctx, `New password for ${positionals[0]!}: `);
        const answer = await serviceCall('directory users', () => ctx.api.patch<unknown>(`${USERS}/${seg(positionals[0]!)}`, { password }));
        ctx.print(answer, `password of ${positionals[0]!} set`);
        return 0;
      }
      default:
        throw new UsageError(`unknown user command ${JSON.stringify(sub)}`);
    }
  },
};

async function addUser(ctx: CliContext, args: readonly string[]): Promise<number> {
  const { values, positionals } = parseCommand(
    args,
    {
      name: { type: 'string' },
      surname: { type: 'string' },
      'given-name': { type: 'string' },
      email: { type: 'string' },
      group: { type: 'string', multiple: true },
      'no-password': { type: 'boolean' },
    },
    { min: 1, max: 1 },
  );
  const uid = positionals[0]!;
  const password = values['no-password'] ? undefined : await newPassword(ctx, `Password for ${uid}: `);
  const body = {
    uid,
    ...(values.name ? { cn: values.name } : {}),
    ...(values.surname ? { sn: values.surname } : {}),
    ...(values['given-name'] ? { givenName: values['given-name'] } : {}),
    ...(values.email ? { mail: values.email } : {}),
    ...(values.group?.length ? { groups: values.group } : {}),
    ...(password === undefined ? {} : { password }),
  };
  ctx.print(await serviceCall('directory users', () => ctx.api.post<unknown>(USERS, body)), `added user ${uid}`);
  return 0;
}

export const group: CommandSpec = {
  name: 'group',
  usage: [
    'group ls',
    'group add NAME [--description TEXT] [--member UID]...',
    'group rm NAME [--yes]',
    'group member add GROUP UID',
    'group member rm GROUP UID',
  ],
  summary: 'directory groups and their members',
  details: 'example: storm group member add admins alice',
  async run(ctx, args) {
    const [sub, ...rest] = args;
    switch (sub) {
      case 'ls':
      case undefined:
        parseCommand(rest, {}, { min: 0, max: 0 });
        printList(ctx, await serviceList(ctx, 'directory groups', GROUPS), 'no groups', ['name', 'gidNumber', 'description', 'members']);
        return 0;
      case 'add': {
        const { values, positionals } = parseCommand(
          rest,
          { description: { type: 'string' }, member: { type: 'string', multiple: true } },
          { min: 1, max: 1 },
        );
        const body = {
          name: positionals[0],
          ...(values.description ? { description: values.description } : {}),
          ...(values.member?.length ? { members: values.member } : {}),
        };
        ctx.print(await serviceCall('directory groups', () => ctx.api.post<unknown>(GROUPS, body)), `added group ${positionals[0]!}`);
        return 0;
      }
      case 'rm':
        return remove(ctx, rest, 'group', GROUPS);
      case 'member':
        return member(ctx, rest);
      default:
        throw new UsageError(`unknown group command ${JSON.stringify(sub)}`);
    }
  },
};

async function newPassword(ctx: CliContext, prompt: string): Promise<string> {
  const password = await readSecret(ctx, prompt, true);
  if (!password)
    throw new UsageError('no password given (on a terminal it is asked for; otherwise pipe it in on stdin, or pass --no-password to add)');
  return password;
}

async function member(ctx: CliContext, args: readonly string[]): Promise<number> {
  const [op, ...rest] = args;
  if (op !== 'add' && op !== 'rm') throw new UsageError(`group member ${JSON.stringify(op ?? '')}: add or rm`);
  const { positionals } = parseCommand(rest, {}, { min: 2, max: 2 });
  const [g, u] = positionals as [string, string];
  const path = `${GROUPS}/${seg(g)}/members/${seg(u)}`;
  const answer = await serviceCall('directory groups', () => (op === 'add' ? ctx.api.put<unknown>(path) : ctx.api.delete<unknown>(path)));
  ctx.print(answer, op === 'add' ? `${u} is in ${g}` : `${u} left ${g}`);
  return 0;
}

async function remove(ctx: CliContext, args: readonly string[], kind: 'user' | 'group', base: string): Promise<number> {
  const { values, positionals } = parseCommand(args, { yes: { type: 'boolean', short: 'y' } }, { min: 1, max: 1 });
  const name = positionals[0]!;
  const yes = values.yes === true;
  const what = `storm ${kind} rm ${name}`;
  assertConfirmable(ctx, yes, what);
  await confirm(ctx, { yes, what, question: `Remove ${kind} ${name} from the directory?` });
  await serviceCall(`directory ${kind}s`, () => ctx.api.delete(`${base}/${seg(name)}`));
  ctx.print({ name, removed: true }, `removed ${kind} ${name}`);
  return 0;
}
