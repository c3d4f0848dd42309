/**
 * One entry of the CLI's command table: its name, usage lines, a summary for `storm --help`, more
 * text for `storm help NAME`, and what it runs (the exit status).
 *
 * @example
 * export const ls: CommandSpec = { name: 'ls', usage: ['ls'], summary: 'list instances', run: async (ctx) => 0 };
 */
import type { CliContext } from './context.js';

export interface CommandSpec {
  readonly name: string;
  /** Each line a way to call it, without the leading `storm `. */
  readonly usage: readonly string[];
  readonly summary: string;
  /** Options and an example, for `storm help NAME`. */
  readonly details?: string;
  run(ctx: CliContext, args: readonly string[]): Promise<number>;
}

/** The command's usage as `storm help NAME` prints it. */
export function commandHelp(c: CommandSpec): string {
  const lines = c.usage.map((u, i) => `${i === 0 ? 'usage: ' : '       '}storm ${u}`);
  return `${lines.join('\n')}\n\n${c.summary}\n${c.details ? `\n${c.details.trimEnd()}\n` : ''}`;
}
